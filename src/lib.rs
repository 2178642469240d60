//! cmk-check: checks every prerequisite of customer-managed-key encryption for Azure Cosmos DB
//! for PostgreSQL.
//!
//! The pipeline: a [`source`] reads [`State`](state::State)s, the [`engine`] runs the pure rules
//! of [`rules::ALL`] over each with a clock, and a [`render`]er prints the
//! [`Report`](engine::Report). The layers import downward only: [`document`] → [`state`] →
//! [`lint`] → [`rules`] → [`engine`] → [`render`]; [`azure`] and [`model`] hold the facts all of
//! them share.

pub mod azure;
pub mod config;
pub mod document;
pub mod engine;
pub mod lint;
pub mod model;
pub mod render;
pub mod rules;
pub mod source;
pub mod state;
