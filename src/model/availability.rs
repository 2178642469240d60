use serde::Deserialize;

use super::Body;

/// `GET {resource}/providers/Microsoft.ResourceHealth/availabilityStatuses/current`, or a row of
/// Resource Graph's `healthresources` of that type.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AvailabilityStatus {
    pub id: Option<String>,
    pub name: Option<String>,
    pub properties: Option<AvailabilityProperties>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityProperties {
    /// `Available`, `Unavailable`, `Degraded` or `Unknown`.
    pub availability_state: Option<String>,
    pub summary: Option<String>,
    pub reason_type: Option<String>,
    pub detailed_status: Option<String>,
}

/// What Resource Health says, in the terms the rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// `Unavailable` or `Degraded`: something is wrong now.
    NotAvailable,
    /// Resource Health has no recent signal: neither fine nor failing.
    Unknown,
}

impl AvailabilityStatus {
    pub fn state(&self) -> Option<&str> {
        self.properties.as_ref()?.availability_state.as_deref()
    }

    pub fn availability(&self) -> Option<Availability> {
        let state = self.state()?.trim();
        Some(if state.eq_ignore_ascii_case("Available") {
            Availability::Available
        } else if state.eq_ignore_ascii_case("Unknown") {
            Availability::Unknown
        } else {
            Availability::NotAvailable
        })
    }

    pub fn summary(&self) -> Option<&str> {
        self.properties.as_ref()?.summary.as_deref()
    }

    pub fn reason_type(&self) -> Option<&str> {
        self.properties.as_ref()?.reason_type.as_deref()
    }
}

impl Body for AvailabilityStatus {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
