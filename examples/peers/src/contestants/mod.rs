//! The contestants of the suite, one module each.

pub mod diesel_sync;
pub mod lifeguard_dsl;
pub mod lifeguard_entity;
pub mod lifeguard_raw;
pub mod sea_orm_tokio;
pub mod sqlx_tokio;
pub mod tokio_pg;

use crate::BoxError;
use crate::suite::Contestant;

/// Connections each contestant's pool keeps (one caller at a time uses them).
pub const POOL_SIZE: usize = 4;

/// Every contestant, connected to `url`. Lifeguard's come first: the ratio columns compare
/// them with the best of the others.
pub fn all(url: &str) -> Result<Vec<Box<dyn Contestant>>, BoxError> {
    Ok(vec![
        Box::new(lifeguard_entity::LifeguardEntity::connect(url)?),
        Box::new(lifeguard_dsl::LifeguardDsl::connect(url)?),
        Box::new(lifeguard_raw::LifeguardRaw::connect(url)?),
        Box::new(tokio_pg::TokioPostgres::connect(url)?),
        Box::new(sqlx_tokio::Sqlx::connect(url)?),
        Box::new(diesel_sync::Diesel::connect(url)?),
        Box::new(sea_orm_tokio::SeaOrm::connect(url)?),
    ])
}

/// The names of Lifeguard's own contestants (the others are peers).
pub const LIFEGUARD: &[&str] = &["lifeguard entity", "lifeguard dsl", "lifeguard raw"];
