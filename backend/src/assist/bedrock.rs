//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`), signed with SigV4 from
//! the standard AWS credential chain; no API key.

use super::llm::{Llm, Post, Request, joined_text};
use crate::error::{Error, Result};
use async_trait::async_trait;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use reqwest::header::HeaderName;
use serde_json::{Value, json};

pub struct Bedrock {
    pub client: reqwest::Client,
    /// `https://bedrock-runtime.{region}.amazonaws.com` unless the user names another.
    pub base_url: Option<String>,
    pub region: String,
    pub credentials: aws_credential_types::provider::SharedCredentialsProvider,
}

pub fn body(req: &Request) -> Value {
    let messages: Vec<Value> = req
        .turns
        .iter()
        .map(|t| json!({"role": t.role.name("assistant"), "content": [{"text": t.text}]}))
        .collect();
    json!({
        "messages": messages,
        "system": [{"text": req.system}],
        "inferenceConfig": {"maxTokens": req.max_tokens, "temperature": req.temperature.min(1.0)},
    })
}

impl Bedrock {
    /// The credential chain's provider and region (`AWS_REGION`, the profile), as the rest
    /// of the AWS backend reads them.
    pub async fn from_env(client: reqwest::Client, base_url: Option<String>) -> Result<Self> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let credentials = config.credentials_provider().ok_or_else(|| {
            Error::backend("assistant", "bedrock needs AWS credentials: none found in the standard chain")
        })?;
        let region = config.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        Ok(Bedrock { client, base_url, region, credentials })
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`, a session token) for this request.
    fn signature(
        &self,
        url: &str,
        body: &[u8],
        identity: &aws_smithy_runtime_api::client::identity::Identity,
    ) -> Result<Vec<(String, String)>> {
        let failed = |e: &dyn std::fmt::Display| Error::backend("assistant", format!("bedrock signing: {e}"));
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name("bedrock")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let unsigned = [("content-type", "application/json")];
        let signable = SignableRequest::new("POST", url, unsigned.iter().copied(), SignableBody::Bytes(body))
            .map_err(|e| failed(&e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| failed(&e))?.into_parts();
        Ok(instructions.headers().map(|(n, v)| (n.to_string(), v.to_string())).collect())
    }
}

#[async_trait]
impl Llm for Bedrock {
    fn name(&self) -> &'static str {
        "bedrock"
    }

    async fn complete(&self, req: &Request) -> Result<String> {
        let creds = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| Error::backend("assistant", format!("bedrock needs AWS credentials: {e}")))?;
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| format!("https://bedrock-runtime.{}.amazonaws.com", self.region));
        let url =
            format!("{}/model/{}/converse", base.trim_end_matches('/'), super::path_segment(&req.model));
        let mut post = Post::json(self.name(), &self.client, &url, &body(req), None);
        for (name, value) in self.signature(&url, &post.body, &creds.into())? {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Error::backend("assistant", format!("bedrock signing: {e}")))?;
            post = post.header(name, &value)?;
        }
        let answer = post.send().await?;
        let parts = answer.pointer("/output/message/content").and_then(Value::as_array).into_iter().flatten();
        joined_text(self.name(), parts)
    }
}
