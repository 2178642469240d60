//! Which Azure: the ARM endpoint, the sign-in authority and the Key Vault DNS suffix go
//! together, one row per cloud.

use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloudName {
    #[default]
    Public,
    China,
    UsGovernment,
}

/// Every cloud cmk-check knows.
pub const CLOUDS: [CloudName; 3] = [CloudName::Public, CloudName::China, CloudName::UsGovernment];

impl CloudName {
    /// Azure Resource Manager.
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Self::Public => "https://management.azure.com/",
            Self::China => "https://management.chinacloudapi.cn/",
            Self::UsGovernment => "https://management.usgovcloudapi.net/",
        }
    }

    /// The DNS suffix of Key Vault vaults (`<vault>.vault.azure.net`).
    pub fn vault_suffix(self) -> &'static str {
        match self {
            Self::Public => "vault.azure.net",
            Self::China => "vault.azure.cn",
            Self::UsGovernment => "vault.usgovcloudapi.net",
        }
    }

    /// The DNS suffix of Managed HSM pools, which this service cannot use.
    pub fn managed_hsm_suffix(self) -> &'static str {
        match self {
            Self::Public => "managedhsm.azure.net",
            Self::China => "managedhsm.azure.cn",
            Self::UsGovernment => "managedhsm.usgovcloudapi.net",
        }
    }

    /// How `--cloud` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::China => "china",
            Self::UsGovernment => "usgovernment",
        }
    }

    /// The cloud whose vaults end in `suffix` (`vault.azure.cn`).
    pub fn of_vault_suffix(suffix: &str) -> Option<Self> {
        CLOUDS
            .into_iter()
            .find(|c| c.vault_suffix().eq_ignore_ascii_case(suffix))
    }
}

/// Which Azure a live read talks to.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub name: CloudName,
    /// Azure Resource Manager, possibly overridden (`--arm-endpoint`).
    pub arm: Url,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("`{0}` is not a URL")]
    NotAUrl(String),
    #[error("`{0}` uses plain http, which is accepted only for loopback addresses (127.0.0.1, ::1, localhost)")]
    PlainHttp(String),
    #[error("`{0}` must use https")]
    Scheme(String),
}

impl Cloud {
    pub fn new(name: CloudName, arm_override: Option<&str>) -> Result<Self, EndpointError> {
        let arm = match arm_override {
            Some(raw) => checked_endpoint(raw)?,
            None => Url::parse(name.arm_endpoint())
                .map_err(|_| EndpointError::NotAUrl(name.arm_endpoint().to_string()))?,
        };
        Ok(Self { name, arm })
    }

    /// The audience of ARM tokens: always the cloud's own, even behind an overridden endpoint.
    pub fn arm_scope(&self) -> String {
        format!(
            "{}/.default",
            self.name.arm_endpoint().trim_end_matches('/')
        )
    }
}

/// An endpoint override: https anywhere, plain http only on this machine (fakes and proxies for
/// tests), so a token never crosses a network in clear text.
pub fn checked_endpoint(raw: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(raw).map_err(|_| EndpointError::NotAUrl(raw.to_string()))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(EndpointError::PlainHttp(raw.to_string())),
        _ => Err(EndpointError::Scheme(raw.to_string())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(checked_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(checked_endpoint("http://[::1]:8080").is_ok());
        assert!(checked_endpoint("http://localhost:1").is_ok());
        assert!(matches!(
            checked_endpoint("http://10.0.0.1"),
            Err(EndpointError::PlainHttp(_))
        ));
        assert!(matches!(
            checked_endpoint("http://management.azure.com"),
            Err(EndpointError::PlainHttp(_))
        ));
        assert!(matches!(
            checked_endpoint("ftp://127.0.0.1"),
            Err(EndpointError::Scheme(_))
        ));
        assert!(checked_endpoint("https://management.azure.com").is_ok());
    }

    #[test]
    fn scope_stays_the_clouds_own() {
        let cloud = Cloud::new(CloudName::China, Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(
            cloud.arm_scope(),
            "https://management.chinacloudapi.cn/.default"
        );
        assert_eq!(cloud.name.vault_suffix(), "vault.azure.cn");
        assert_eq!(
            CloudName::of_vault_suffix("VAULT.usgovcloudapi.net"),
            Some(CloudName::UsGovernment)
        );
    }
}
