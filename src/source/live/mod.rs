//! The live source: reads the identity, vault, key, key versions, cluster, alerts, the vault's
//! diagnostic settings and the cluster's availability from
//! Azure Resource Manager (and the Key Vault data plane when ARM may not show the key), and
//! produces the same [`State`] a snapshot does.

pub mod arm;
pub mod assemble;
pub mod auth;
pub mod fetch;
pub mod keyvault;
mod observed;
pub mod redact;
pub mod target;

use std::sync::Arc;

use self::arm::ArmClient;
use self::keyvault::KeyVaultReader;
use self::target::Target;
use crate::azure::cloud;
use crate::source::snapshot::Recording;
use crate::state::State;

/// The clients a live read uses.
#[derive(Debug, Clone)]
pub struct Azure {
    pub arm: ArmClient,
    /// Present when the credential can also speak to the Key Vault data plane.
    pub key_vault: Option<KeyVaultReader>,
}

/// The state read from Azure, and the bodies it came from, for a snapshot.
#[derive(Debug)]
pub struct Live {
    pub state: State,
    pub recording: Recording,
    /// What could not be read, one line each, for the user's terminal.
    pub unread: Vec<String>,
}

/// Reads everything `target` names.
pub async fn read(target: &Target, azure: &Azure) -> Live {
    assemble::assemble(target, fetch::fetch(target, azure).await)
}

/// How to reach Azure, from the command line.
#[derive(Debug, Clone)]
pub struct Connection {
    pub auth: auth::AuthMethod,
    pub cloud: cloud::CloudName,
    pub arm_endpoint: Option<String>,
    pub keyvault_endpoint: Option<String>,
    pub timeout: std::time::Duration,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConnectError {
    #[error(transparent)]
    #[diagnostic(
        code(cmk_check::unreachable),
        help("check the network, a proxy (HTTPS_PROXY) or `--arm-endpoint`; `--offline` checks a template without Azure")
    )]
    Unreachable(#[from] arm::Unreachable),
    #[error("the endpoint cannot be used")]
    #[diagnostic(code(cmk_check::endpoint))]
    Endpoint(#[source] cloud::EndpointError),
    #[error("could not sign in to Azure")]
    #[diagnostic(
        code(cmk_check::auth),
        help("sign in with `az login` (or `azd auth login`), or choose a credential with `--auth`; a pipeline can pass a token with `--auth access-token` and CMK_CHECK_ACCESS_TOKEN; a template needs no sign-in with `--offline`")
    )]
    Auth(#[source] auth::AuthError),
    #[error("could not set up HTTP: {0}")]
    #[diagnostic(code(cmk_check::http))]
    Http(String),
}

/// One HTTP client for everything (ARM, Entra, Key Vault), one ARM token.
pub async fn connect(connection: &Connection) -> Result<Azure, ConnectError> {
    let http = reqwest::Client::builder()
        .connect_timeout(connection.timeout.min(std::time::Duration::from_secs(10)))
        .user_agent(concat!("cmk-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectError::Http(e.to_string()))?;
    let cloud = cloud::Cloud::new(connection.cloud, connection.arm_endpoint.as_deref())
        .map_err(ConnectError::Endpoint)?;
    let keyvault_endpoint = connection
        .keyvault_endpoint
        .as_deref()
        .map(cloud::checked_endpoint)
        .transpose()
        .map_err(ConnectError::Endpoint)?;
    let transport = azure_core::http::Transport::new(Arc::new(http.clone()));
    let (credential, token) = auth::Credential::select(connection.auth, &cloud, &transport)
        .await
        .map_err(ConnectError::Auth)?;
    let retry = arm::RetryPolicy {
        max_wait: connection.timeout,
        ..arm::RetryPolicy::default()
    };
    Ok(Azure {
        arm: ArmClient::new(
            http.clone(),
            cloud.arm.clone(),
            token,
            connection.timeout,
            retry,
        ),
        key_vault: credential
            .for_key_vault()
            .map(|c| KeyVaultReader::new(c, http, keyvault_endpoint)),
    })
}
