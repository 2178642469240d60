//! cmk-check: checks every prerequisite of customer-managed-key encryption for Azure Cosmos DB
//! for PostgreSQL, from a snapshot of the Azure state.
//!
//! The pipeline: a source produces a [`State`](state::State), the [`engine`] runs the pure rules
//! of [`rules::ALL`] over it with a clock, and a renderer prints the [`Report`](engine::Report).

pub mod arm;
pub mod config;
pub mod engine;
pub mod keyuri;
pub mod model;
pub mod render;
pub mod rules;
pub mod source;
pub mod state;
pub mod time;
