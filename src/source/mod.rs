//! Sources of [`State`](crate::state::State): each produces the same typed state with its
//! source text attached.

pub mod document;
pub mod error;
pub mod live;
pub mod snapshot;
pub mod template;
