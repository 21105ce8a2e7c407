//! Integration secrets in Secrets Manager, one secret per integration under
//! `mantissa-log/users/{user_id}/integrations/{integration_id}`; tables hold only that name.

use super::sdk_err;
use crate::error::Result;
use crate::ports::SecretStore;
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

#[derive(Clone)]
pub struct SecretsManager {
    client: Client,
}

impl SecretsManager {
    pub fn new(client: Client) -> Self {
        SecretsManager { client }
    }
}

#[async_trait]
impl SecretStore for SecretsManager {
    /// Creates the secret, or rotates it (a new version) when it exists.
    async fn put_secret(&self, name: &str, value: &str) -> Result<()> {
        let created = self.client.create_secret().name(name).secret_string(value).send().await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => {
                self.client
                    .put_secret_value()
                    .secret_id(name)
                    .secret_string(value)
                    .send()
                    .await
                    .map_err(|e| sdk_err("secretsmanager PutSecretValue", e))?;
                Ok(())
            }
            Err(e) => Err(sdk_err("secretsmanager CreateSecret", e)),
        }
    }

    async fn get_secret(&self, name: &str) -> Result<Option<String>> {
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => Ok(out.secret_string),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(sdk_err("secretsmanager GetSecretValue", e)),
        }
    }

    /// Deletes at once (no recovery window): the integration is gone, and a new one of the
    /// same id must be able to create its secret again.
    async fn delete_secret(&self, name: &str) -> Result<()> {
        match self.client.delete_secret().secret_id(name).force_delete_without_recovery(true).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(sdk_err("secretsmanager DeleteSecret", e)),
        }
    }
}
