//! The Key Vault data plane, used only when ARM forbids reading the key but the caller holds
//! the key `get` permission on the vault. As with ARM, an answer is read up to a limit and
//! what the vault says is redacted of the tokens sent to it.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport, Url};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use futures::StreamExt;
use serde_json::{json, Value};

use super::arm::{ArmError, Limits};
use super::redact::Redactor;
use crate::azure::keyuri::KeyUri;
use crate::azure::KEY_TYPE;
use crate::document::json::Members;
use crate::model::{Body, Key};

#[derive(Debug, Clone)]
pub struct KeyVaultReader {
    credential: Arc<dyn TokenCredential>,
    transport: Transport,
    /// Knows every token minted for the vault.
    redactor: Redactor,
}

impl KeyVaultReader {
    /// `endpoint` replaces every vault's address (a fake on loopback, or a proxy); the requests
    /// keep their https URL, which Key Vault's challenge check and the token policy require.
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        http: reqwest::Client,
        endpoint: Option<Url>,
    ) -> Self {
        let transport = Transport::new(Arc::new(Bounded {
            http,
            to: endpoint,
            limit: Limits::default().body,
        }));
        let redactor = Redactor::default();
        Self {
            credential: Arc::new(Remembering {
                credential,
                redactor: redactor.clone(),
            }),
            transport,
            redactor,
        }
    }

    /// The key's KeyBundle, as JSON.
    pub async fn get_key(&self, key: &KeyUri) -> Result<Value, ArmError> {
        let mut bundle = self
            .read_key(key)
            .await
            .map_err(|e| e.redacted(&self.redactor))?;
        self.redactor.value(&mut bundle);
        Ok(bundle)
    }

    async fn read_key(&self, key: &KeyUri) -> Result<Value, ArmError> {
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
    if let Some(ours) = own_error(&error) {
        return ours;
    }
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

/// The error this module gave the SDK's pipeline, wherever in the chain it ended up.
fn own_error(error: &azure_core::Error) -> Option<ArmError> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(ours) = current.downcast_ref::<ArmError>() {
            return Some(ours.clone());
        }
        cause = current.source();
    }
    None
}

/// Remembers each token it hands the SDK, so that an answer echoing one is redacted.
#[derive(Debug)]
struct Remembering {
    credential: Arc<dyn TokenCredential>,
    redactor: Redactor,
}

#[async_trait]
impl TokenCredential for Remembering {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let token = self.credential.get_token(scopes, options).await?;
        self.redactor.remember(&token.token);
        Ok(token)
    }
}

/// Reads bodies up to `limit`, and sends every request to `to`, when given, instead of the
/// vault's own host.
#[derive(Debug)]
struct Bounded {
    http: reqwest::Client,
    to: Option<Url>,
    limit: usize,
}

#[async_trait]
impl HttpClient for Bounded {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut redirected = request.clone();
        if let Some(to) = &self.to {
            let mut url = request.url().clone();
            // Both are valid URLs with hosts; the setters fail only for cannot-be-a-base URLs.
            let _ = url.set_scheme(to.scheme());
            let _ = url.set_host(to.host_str());
            let _ = url.set_port(to.port());
            *redirected.url_mut() = url;
        }
        let (status, headers, body) = self.http.execute_request(&redirected).await?.deconstruct();
        let limit = self.limit;
        let mut read = 0usize;
        let bounded = body.map(move |chunk| {
            let chunk = chunk?;
            read = read.saturating_add(chunk.len());
            if read > limit {
                // Not an I/O error: the SDK would retry those, and read it all again.
                return Err(azure_core::Error::new(
                    ErrorKind::DataConversion,
                    ArmError::TooLarge(limit),
                ));
            }
            Ok(chunk)
        });
        Ok(AsyncRawResponse::new(status, headers, Box::pin(bounded)))
    }
}
