//! Sources of [`State`]: each produces the same typed state with its source text attached, and
//! [`load`] is the one entry point to all of them.

pub mod complete;
pub mod fleet;
pub mod key_file;
pub mod live;
pub mod snapshot;
pub mod template;
pub mod terraform;

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

use self::complete::Planned;
use self::live::target::Target;
use self::live::{ConnectError, Connection};
use self::snapshot::{Recording, SnapshotError};
use self::template::{Placement, TemplateError};
use self::terraform::TerraformError;
use crate::state::State;

/// What to check.
#[derive(Debug, Clone)]
pub enum Input {
    /// A snapshot file.
    Snapshot(PathBuf),
    /// Resources in Azure.
    Live(Box<Target>),
    /// The clusters a template will create.
    Template {
        path: PathBuf,
        parameters: Option<PathBuf>,
        placement: Placement,
        /// Leave what the template only references unverified instead of reading Azure.
        offline: bool,
    },
    /// The clusters a Terraform plan (`terraform show -json`) will create.
    Terraform {
        plan: PathBuf,
        /// The directory of the root module's `.tf` files (default: the plan's).
        dir: Option<PathBuf>,
        placement: terraform::Placement,
        /// Leave what the plan only references unverified instead of reading Azure.
        offline: bool,
    },
}

/// What was read: one state per target, and what the user should know about the reading.
#[derive(Debug, Default)]
pub struct Loaded {
    pub targets: Vec<State>,
    /// Things skipped on purpose (a cluster without CMK, a linked template).
    pub notes: Vec<String>,
    /// Things that could not be read; the findings say what they could not verify.
    pub warnings: Vec<String>,
    /// The bodies of a live read, for `cmk-check snapshot`.
    pub recording: Option<Recording>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Terraform(#[from] TerraformError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connect(#[from] ConnectError),
}

/// Reads the targets of `input`. Azure is signed in to only when something must be read there.
pub async fn load(input: &Input, connection: &Connection) -> Result<Loaded, LoadError> {
    match input {
        Input::Snapshot(path) => Ok(Loaded {
            targets: vec![snapshot::read(path)?],
            ..Loaded::default()
        }),
        Input::Live(target) => {
            let azure = live::connect(connection).await?;
            let read = live::read(target, &azure).await;
            azure.arm.reachable().map_err(ConnectError::from)?;
            Ok(Loaded {
                targets: vec![read.state],
                warnings: read.unread,
                recording: Some(read.recording),
                ..Loaded::default()
            })
        }
        Input::Template {
            path,
            parameters,
            placement,
            offline,
        } => {
            let template = template::read(path, parameters.as_deref(), placement)?;
            declared(template.targets, template.notes, *offline, connection).await
        }
        Input::Terraform {
            plan,
            dir,
            placement,
            offline,
        } => {
            let plan = terraform::read(plan, dir.as_deref(), placement)?;
            declared(plan.targets, plan.notes, *offline, connection).await
        }
    }
}

/// The targets of a declaring source, what they only reference read from Azure unless offline.
async fn declared(
    mut planned: Vec<Planned>,
    notes: Vec<String>,
    offline: bool,
    connection: &Connection,
) -> Result<Loaded, LoadError> {
    if !offline && planned.iter().any(|p| p.referenced.any()) {
        let azure = live::connect(connection).await?;
        complete::complete(&mut planned, &azure).await;
        azure.arm.reachable().map_err(ConnectError::from)?;
    }
    Ok(Loaded {
        targets: planned.into_iter().map(|p| p.state).collect(),
        notes,
        ..Loaded::default()
    })
}
