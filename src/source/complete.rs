//! Declared and referenced: a template or a plan declares some resources (checked from their
//! code) and only references others by resource ID or key URI. Those are read from Azure by the
//! live source, or, offline, left as gaps that say they were not read. One step for every
//! declaring source.

use crate::azure::keyuri::KeyUri;
use crate::source::live::target::{ResourceId, Target};
use crate::source::live::{self, Azure};
use crate::state::{Gap, Place, Section, State};

/// One cluster a declaring source will create, and what it only references.
#[derive(Debug)]
pub struct Planned {
    pub cluster: String,
    pub state: State,
    pub referenced: Referenced,
}

/// What a planned target needs from Azure.
#[derive(Debug, Default, Clone)]
pub struct Referenced {
    /// The identity's resource ID, when it is not declared, and where it is written.
    pub identity: Option<(String, Place)>,
    /// The key URI, when the vault or the key is not declared, and which of them is not.
    pub key: Option<(String, KeyUri, Place)>,
    pub vault_missing: bool,
    pub key_missing: bool,
    /// The subscription whose existing alerts count, when the code declares none.
    pub alerts_subscription: Option<String>,
    /// The referenced vault's diagnostic settings are read with it: the code declares none.
    pub diagnostics_missing: bool,
}

impl Referenced {
    /// Whether anything must be read from Azure.
    pub fn any(&self) -> bool {
        self.identity.is_some()
            || (self.key.is_some() && (self.vault_missing || self.key_missing))
            || self.alerts_subscription.is_some()
    }
}

/// Reads what every planned target references, the targets concurrently.
pub async fn complete(planned: &mut [Planned], azure: &Azure) {
    let reads = planned.iter().map(|p| read(&p.referenced, azure));
    let read: Vec<State> = futures::future::join_all(reads).await;
    for (planned, read) in planned.iter_mut().zip(read) {
        apply(planned, read);
    }
}

async fn read(referenced: &Referenced, azure: &Azure) -> State {
    let identity = referenced
        .identity
        .as_ref()
        .and_then(|(id, _)| ResourceId::parse_any("--identity", id).ok());
    let target = Target {
        location: None,
        identity,
        key: referenced
            .key
            .as_ref()
            .filter(|_| referenced.vault_missing || referenced.key_missing)
            .map(|(raw, key, _)| (raw.clone(), key.clone())),
        vault: None,
        cluster: None,
        subscription: None,
        alerts_subscription: referenced.alerts_subscription.clone(),
    };
    live::read(&target, azure).await.state
}

/// Puts what was read where the code references it; a gap points at the reference.
fn apply(planned: &mut Planned, read: State) {
    let referenced = &planned.referenced;
    let state = &mut planned.state;
    if let Some((id, place)) = &referenced.identity {
        state.identity = match ResourceId::parse_any("--identity", id) {
            Ok(_) => at(read.identity, place),
            Err(_) => Err(Gap {
                reason: format!("the identity's ID `{id}` is built from its deployment's subscription and resource group, which are not known"),
                label: "this identity".to_string(),
                remedy: "give `--subscription` and `--resource-group` so that cmk-check can read it".to_string(),
                place: place.clone(),
            }),
        };
    }
    if let Some((_, _, place)) = &referenced.key {
        if referenced.vault_missing {
            state.vault = at(read.vault, place);
        }
        if referenced.diagnostics_missing {
            state.vault_diagnostics = at(read.vault_diagnostics, place);
        }
        if referenced.key_missing {
            state.key = at(read.key, place);
            state.key_versions = at(read.key_versions, place);
        }
    }
    if referenced.alerts_subscription.is_some() {
        state.alerts = read.alerts;
    }
}

/// A section read for the code, its gap moved to where the code references it.
fn at<T>(section: Section<T>, place: &Place) -> Section<T> {
    section.map_err(|mut gap| {
        gap.place = place.clone();
        gap
    })
}
