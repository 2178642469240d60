//! Which Azure: the ARM endpoint, the Entra authority and the Key Vault DNS suffix go together.

use azure_core::cloud::CloudConfiguration;
use clap::ValueEnum;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CloudName {
    #[default]
    Public,
    China,
    Usgovernment,
}

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
            None => Url::parse(name.default_arm())
                .map_err(|_| EndpointError::NotAUrl(name.default_arm().to_string()))?,
        };
        Ok(Self { name, arm })
    }

    /// The audience of ARM tokens: always the cloud's own, even behind an overridden endpoint.
    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.name.default_arm().trim_end_matches('/'))
    }

    pub fn vault_suffix_of(name: CloudName) -> &'static str {
        match name {
            CloudName::Public => "vault.azure.net",
            CloudName::China => "vault.azure.cn",
            CloudName::Usgovernment => "vault.usgovcloudapi.net",
        }
    }

    pub fn configuration(&self) -> CloudConfiguration {
        match self.name {
            CloudName::Public => CloudConfiguration::AzurePublic,
            CloudName::China => CloudConfiguration::AzureChina,
            CloudName::Usgovernment => CloudConfiguration::AzureGovernment,
        }
    }
}

impl CloudName {
    fn default_arm(self) -> &'static str {
        match self {
            Self::Public => "https://management.azure.com/",
            Self::China => "https://management.chinacloudapi.cn/",
            Self::Usgovernment => "https://management.usgovcloudapi.net/",
        }
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
        assert_eq!(Cloud::vault_suffix_of(cloud.name), "vault.azure.cn");
    }
}
