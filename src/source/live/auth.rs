//! Who cmk-check is when it reads Azure: one credential, chosen by `--auth`, asked for one
//! token per audience per run. Tokens are never printed, logged or written.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use thiserror::Error;

use super::redact;
use crate::azure::cloud::{Cloud, CloudName};

/// The environment variable `--auth access-token` reads.
pub const ACCESS_TOKEN_ENV: &str = "CMK_CHECK_ACCESS_TOKEN";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// Client secret, then workload identity (from the environment), then the Azure CLI, then
    /// the Azure Developer CLI
    #[default]
    Auto,
    /// The Azure CLI's login (`az login`)
    Cli,
    /// The Azure Developer CLI's login (`azd auth login`)
    Azd,
    /// Workload identity federation (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)
    WorkloadIdentity,
    /// A service principal's secret (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)
    ClientSecret,
    /// The managed identity of the machine cmk-check runs on (only on Azure)
    ManagedIdentity,
    /// A bearer token for Azure Resource Manager in CMK_CHECK_ACCESS_TOKEN
    AccessToken,
}

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("`--auth access-token` needs a bearer token for Azure Resource Manager in {ACCESS_TOKEN_ENV}")]
    NoAccessToken,
    #[error("`--auth {method}` needs {missing} in the environment")]
    MissingEnvironment {
        method: &'static str,
        missing: String,
    },
    #[error("no credential worked:\n{0}")]
    NoneWorked(String),
    #[error("{method} could not get a token: {message}")]
    Failed {
        method: &'static str,
        message: String,
    },
}

/// The identity cmk-check acts as.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A credential that can mint tokens for any audience (ARM, then Key Vault if needed).
    Azure(Arc<dyn TokenCredential>),
    /// A bearer token for ARM only, handed over by the pipeline; the client holds the token.
    ArmToken,
}

impl Credential {
    /// Chooses the credential `method` names. `auto` tries each candidate for a token on the
    /// ARM audience, and keeps the first that answers.
    pub async fn select(
        method: AuthMethod,
        cloud: &Cloud,
        transport: &Transport,
    ) -> Result<(Self, Secret), AuthError> {
        let scope = cloud.arm_scope();
        if method == AuthMethod::AccessToken {
            let token = std::env::var(ACCESS_TOKEN_ENV)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .ok_or(AuthError::NoAccessToken)?;
            let token = Secret::new(token.trim().to_string());
            return Ok((Self::ArmToken, token));
        }
        let candidates: Vec<(&'static str, AuthMethod)> = match method {
            AuthMethod::Auto => {
                let mut chain = Vec::new();
                if env_set(&["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]) {
                    chain.push(("client secret", AuthMethod::ClientSecret));
                }
                if env_set(&["AZURE_FEDERATED_TOKEN_FILE"]) {
                    chain.push(("workload identity", AuthMethod::WorkloadIdentity));
                }
                chain.push(("Azure CLI", AuthMethod::Cli));
                chain.push(("Azure Developer CLI", AuthMethod::Azd));
                chain
            }
            other => vec![(method_name(other), other)],
        };
        let mut failures = Vec::new();
        for (name, candidate) in &candidates {
            let attempt = async {
                let credential = build(*candidate, cloud, transport)?;
                let token = token(credential.as_ref(), &scope)
                    .await
                    .map_err(|message| AuthError::Failed {
                        method: name,
                        message,
                    })?;
                Ok::<_, AuthError>((credential, token))
            };
            match attempt.await {
                Ok((credential, token)) => return Ok((Self::Azure(credential), token.token)),
                Err(e) if candidates.len() == 1 => return Err(e),
                Err(e) => failures.push(format!("  - {e}")),
            }
        }
        Err(AuthError::NoneWorked(failures.join("\n")))
    }

    /// A token for another audience (the Key Vault data plane), when this credential can mint one.
    pub fn for_key_vault(&self) -> Option<Arc<dyn TokenCredential>> {
        match self {
            Self::Azure(credential) => Some(Arc::clone(credential)),
            Self::ArmToken => None,
        }
    }
}

async fn token(credential: &dyn TokenCredential, scope: &str) -> Result<AccessToken, String> {
    credential
        .get_token(&[scope], None)
        .await
        // A sign-in tool may quote a token, or a request that carried one, in its error.
        .map_err(|e| redact::patterns(&e.to_string()))
}

fn env_set(names: &[&str]) -> bool {
    names
        .iter()
        .all(|n| std::env::var(n).is_ok_and(|v| !v.trim().is_empty()))
}

fn method_name(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Auto => "auto",
        AuthMethod::Cli => "cli",
        AuthMethod::Azd => "azd",
        AuthMethod::WorkloadIdentity => "workload-identity",
        AuthMethod::ClientSecret => "client-secret",
        AuthMethod::ManagedIdentity => "managed-identity",
        AuthMethod::AccessToken => "access-token",
    }
}

fn build(
    method: AuthMethod,
    cloud: &Cloud,
    transport: &Transport,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let failed = |e: azure_core::Error| AuthError::Failed {
        method: method_name(method),
        message: redact::patterns(&e.to_string()),
    };
    let client_options = || ClientOptions {
        transport: Some(transport.clone()),
        cloud: Some(Arc::new(configuration(cloud.name))),
        ..ClientOptions::default()
    };
    let credential: Arc<dyn TokenCredential> = match method {
        AuthMethod::Cli => AzureCliCredential::new(None).map_err(failed)?,
        AuthMethod::Azd => AzureDeveloperCliCredential::new(None).map_err(failed)?,
        AuthMethod::ClientSecret => {
            let [tenant, client, secret] = required_env(
                method,
                ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            )?;
            let options = ClientSecretCredentialOptions {
                client_options: client_options(),
            };
            ClientSecretCredential::new(&tenant, client, Secret::new(secret), Some(options))
                .map_err(failed)?
        }
        AuthMethod::WorkloadIdentity => {
            required_env(
                method,
                [
                    "AZURE_TENANT_ID",
                    "AZURE_CLIENT_ID",
                    "AZURE_FEDERATED_TOKEN_FILE",
                ],
            )?;
            let mut options = WorkloadIdentityCredentialOptions::default();
            options.credential_options.client_options = client_options();
            WorkloadIdentityCredential::new(Some(options)).map_err(failed)?
        }
        // Off Azure this one can wait a long time for an endpoint that is not there: only on request.
        AuthMethod::ManagedIdentity => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                client_options: client_options(),
                ..ManagedIdentityCredentialOptions::default()
            }))
            .map_err(failed)?
        }
        AuthMethod::Auto | AuthMethod::AccessToken => {
            return Err(AuthError::Failed {
                method: method_name(method),
                message: "is not a single credential".to_string(),
            })
        }
    };
    Ok(credential)
}

fn required_env<const N: usize>(
    method: AuthMethod,
    names: [&str; N],
) -> Result<[String; N], AuthError> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| std::env::var(n).map_or(true, |v| v.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(AuthError::MissingEnvironment {
            method: method_name(method),
            missing: missing.join(", "),
        });
    }
    Ok(names.map(|n| std::env::var(n).unwrap_or_default()))
}

/// The sign-in authority of each cloud, as azure_identity names it.
fn configuration(cloud: CloudName) -> azure_core::cloud::CloudConfiguration {
    use azure_core::cloud::CloudConfiguration;
    match cloud {
        CloudName::Public => CloudConfiguration::AzurePublic,
        CloudName::China => CloudConfiguration::AzureChina,
        CloudName::UsGovernment => CloudConfiguration::AzureGovernment,
    }
}
