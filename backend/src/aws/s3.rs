//! S3 through `object_store` (what DataFusion reads with): one `AmazonS3` per bucket, signed
//! with the SDK's standard credential chain (profile, SSO, env, IMDS) and honouring
//! `--endpoint-url` (path-style, plain http allowed only for an emulator's http URL).

use super::AwsSettings;
use crate::error::{Error, Result};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};
use object_store::{CredentialProvider, ObjectStore};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// `s3://bucket/prefix`: where a lake (or raw logs) live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://bucket` or `s3://bucket/some/prefix/`.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            Error::invalid(url, "expected an S3 URL like s3://my-lake-bucket or s3://my-bucket/lake")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid {
            return Err(Error::invalid(
                url,
                format!("`{bucket}` is not an S3 bucket name (3-63 characters of a-z, 0-9, `-`, `.`)"),
            ));
        }
        Ok(S3Url { bucket: bucket.to_string(), prefix: prefix.trim_matches('/').to_string() })
    }

    /// `prefix/<rest>` (or `rest` at the bucket's root), as an object key.
    pub fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() { rest.to_string() } else { format!("{}/{rest}", self.prefix) }
    }

    /// `s3://bucket/prefix/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(rest))
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// The SDK's credential chain as an `object_store` credential provider, cached until five
/// minutes before the credentials expire (the chain itself does not cache).
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

#[async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        if let Some((c, expiry)) = self.cached.lock().expect("credential cache").as_ref()
            && expiry.is_none_or(|e| e > SystemTime::now() + Duration::from_secs(300))
        {
            return Ok(c.clone());
        }
        let c = self.provider.provide_credentials().await.map_err(|e| object_store::Error::Generic {
            store: "S3",
            source: format!(
                "no AWS credentials ({e}): set a profile (--profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, \
                 or run on a role"
            )
            .into(),
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        });
        *self.cached.lock().expect("credential cache") = Some((credential.clone(), c.expiry()));
        Ok(credential)
    }
}

/// Builds object stores for buckets with one credential provider.
#[derive(Clone)]
pub struct S3Stores {
    region: String,
    endpoint: Option<String>,
    credentials: Arc<SdkCredentials>,
}

impl S3Stores {
    pub fn new(settings: &AwsSettings, conf: &SdkConfig) -> Result<Self> {
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::invalid(
                "--region",
                "no AWS region: pass --region, set AWS_REGION, or set one in the profile",
            )
        })?;
        let provider = conf.credentials_provider().ok_or_else(|| {
            Error::invalid("AWS credentials", "no credential provider: set a profile or AWS_* variables")
        })?;
        Ok(S3Stores {
            region,
            // `--endpoint-url`, else what the SDK was given (`AWS_ENDPOINT_URL`, the profile).
            endpoint: settings.endpoint_url.clone().or_else(|| conf.endpoint_url().map(str::to_string)),
            credentials: Arc::new(SdkCredentials { provider, cached: Mutex::new(None) }),
        })
    }

    /// The store of one bucket.
    pub fn bucket(&self, bucket: &str) -> Result<Arc<AmazonS3>> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&self.region)
            .with_credentials(self.credentials.clone());
        if let Some(endpoint) = &self.endpoint {
            b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        b.build().map(Arc::new).map_err(|e| Error::backend("S3 object store", e))
    }
}

/// An object store error with its place (`s3://bucket/key`) and what to check.
pub fn store_err(url: &str, e: object_store::Error) -> Error {
    let hint = match &e {
        object_store::Error::NotFound { .. } => "no such object: check the bucket and key",
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            "access denied: the caller needs s3:GetObject/s3:PutObject/s3:ListBucket on the bucket"
        }
        _ => "check the bucket exists (mantissa --backend aws aws bootstrap) and the endpoint/region",
    };
    Error::invalid(url, format!("{e} ({hint})"))
}

/// Reads a whole object.
pub async fn get_bytes(store: &dyn ObjectStore, bucket: &str, key: &str) -> Result<bytes::Bytes> {
    use object_store::ObjectStoreExt;
    let url = format!("s3://{bucket}/{key}");
    let got = store.get(&object_store::path::Path::from(key)).await.map_err(|e| store_err(&url, e))?;
    got.bytes().await.map_err(|e| store_err(&url, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_urls_parse_with_or_without_a_prefix() {
        let u = S3Url::parse("s3://my-lake/").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("my-lake", ""));
        assert_eq!(u.url("cloudtrail_logs/"), "s3://my-lake/cloudtrail_logs/");
        let u = S3Url::parse("s3://my-lake/team/a/").unwrap();
        assert_eq!(
            u.key("vpc_flow_logs/dt=2024-11-20/x.parquet"),
            "team/a/vpc_flow_logs/dt=2024-11-20/x.parquet"
        );
        assert_eq!(u.to_string(), "s3://my-lake/team/a");
        let err = S3Url::parse("/var/lake").unwrap_err().to_string();
        assert!(err.contains("s3://"), "{err}");
        assert!(S3Url::parse("s3://My_Bucket").unwrap_err().to_string().contains("bucket name"));
    }
}
