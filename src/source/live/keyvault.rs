//! The Key Vault data plane, used only when ARM forbids reading the key but the caller holds
//! the key `get` permission on the vault.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport, Url};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use serde_json::{json, Value};

use super::arm::ArmError;
use crate::azure::keyuri::KeyUri;
use crate::azure::KEY_TYPE;
use crate::document::json::Members;
use crate::model::{Body, Key};

#[derive(Debug, Clone)]
pub struct KeyVaultReader {
    credential: Arc<dyn TokenCredential>,
    transport: Transport,
}

impl KeyVaultReader {
    /// `endpoint` replaces every vault's address (a fake on loopback, or a proxy); the requests
    /// keep their https URL, which Key Vault's challenge check and the token policy require.
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        http: reqwest::Client,
        endpoint: Option<Url>,
    ) -> Self {
        let transport = match endpoint {
            None => Transport::new(Arc::new(http)),
            Some(to) => Transport::new(Arc::new(Redirect { http, to })),
        };
        Self {
            credential,
            transport,
        }
    }

    /// The key's KeyBundle, as JSON.
    pub async fn get_key(&self, key: &KeyUri) -> Result<Value, ArmError> {
        let options = KeyClientOptions {
            client_options: ClientOptions {
                transport: Some(self.transport.clone()),
                ..ClientOptions::default()
            },
            ..KeyClientOptions::default()
        };
        let vault = format!("https://{}/", key.host);
        let client = KeyClient::new(&vault, Arc::clone(&self.credential), Some(options))
            .map_err(sdk_error)?;
        let get = azure_security_keyvault_keys::models::KeyClientGetKeyOptions {
            key_version: key.version.clone(),
            ..Default::default()
        };
        let response = client
            .get_key(&key.name, Some(get))
            .await
            .map_err(sdk_error)?;
        serde_json::from_slice(&response.into_body())
            .map_err(|e| ArmError::Malformed(e.to_string()))
    }
}

fn sdk_error(error: azure_core::Error) -> ArmError {
    match error.http_status() {
        Some(status) => ArmError::Status {
            status: u16::from(status),
            code: None,
            message: Some(format!("Key Vault: {error}")),
        },
        None => ArmError::Transport(format!("Key Vault: {error}")),
    }
}

/// The KeyBundle in ARM's shape, as snapshots record it: the same facts, with the RSA size
/// instead of the public modulus.
pub fn bundle_as_management_body(bundle: &Value, key: &KeyUri) -> Value {
    let Some((mut shaped, _)) = Key::arm_shape(bundle) else {
        return bundle.clone();
    };
    shaped.put("type", json!(KEY_TYPE));
    if let Some(properties) = shaped.member_mut("properties") {
        properties.put(
            "keyUri",
            json!(format!("https://{}/keys/{}", key.host, key.name)),
        );
    }
    shaped
}

/// Sends every request to `to` instead of the vault's own host.
#[derive(Debug)]
struct Redirect {
    http: reqwest::Client,
    to: Url,
}

#[async_trait]
impl HttpClient for Redirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut redirected = request.clone();
        let mut url = request.url().clone();
        // Both are valid URLs with hosts; the setters fail only for cannot-be-a-base URLs.
        let _ = url.set_scheme(self.to.scheme());
        let _ = url.set_host(self.to.host_str());
        let _ = url.set_port(self.to.port());
        *redirected.url_mut() = url;
        self.http.execute_request(&redirected).await
    }
}
