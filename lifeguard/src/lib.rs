//! Lifeguard: a PostgreSQL data platform for services on the `may` coroutine runtime.
//!
//! Today this crate provides:
//! - [`client`]: a coroutine-native PostgreSQL client — pipelined shared connections,
//!   prepared-statement cache, binary types, transactions, COPY, LISTEN/NOTIFY, cancel and
//!   statement timeouts, TLS (rustls) and SCRAM/MD5/cleartext authentication;
//! - [`pool`]: [`LifeguardPool`], persistent connections shared (pipelined) by single
//!   statements, exclusive FIFO guards for transactions, self-healing, Prometheus metrics;
//! - [`executor`]: [`LifeExecutor`], one trait over the pool, a guard, a client and a
//!   transaction, and [`FromRow`] mapping rows into tuples and structs;
//! - [`testkit`]: throwaway PostgreSQL and Redis servers for tests and examples;
//! - [`table!`], [`sql_types`], [`meta`]: tables declared in Diesel's syntax, with their
//!   columns' SQL types and the declaration readable at run time;
//! - [`query`]: typed, chainable select/insert/update/delete over those tables, checked at
//!   compile time, every value bound, run through any [`LifeExecutor`];
//! - [`entity`]: the entity layer — `Model` rows and `Record` change sets generated for
//!   every table, `find`/`find_by_id`/pagination, relations with eager loading, hooks,
//!   validators, soft deletes, managed timestamps and scopes;
//! - [`introspect`]: a database's schema read from `pg_catalog` into the catalog model that
//!   `lifeguard diff` compares;
//! - `schema_diff` (feature `cli`, on by default): `lifeguard diff` as a library;
//! - [`migrate`]: the migration runner: SQL folders, checksummed tracking, an advisory lock.
//!
//! Nothing in the library blocks a `may` worker thread: sockets are `may`'s, waits park the
//! coroutine, and name resolution runs off-thread.

#![warn(missing_docs)]

// The README's Rust snippets compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub mod client;
pub mod entity;
pub mod executor;
pub mod introspect;
pub mod migrate;
pub mod pool;
pub mod query;
#[cfg(feature = "cli")]
pub mod schema_diff;
pub mod testkit;

pub use client::{Client, Config, Error, Row, connect};
pub use executor::{FromRow, LifeExecutor};
/// The schema DSL (from `lifeguard-schema`): `lifeguard::table!` reads Diesel's `table!`
/// syntax, so a Diesel `schema.rs` works after changing `diesel::` to `lifeguard::`.
pub use lifeguard_schema::{
    allow_tables_to_appear_in_same_query, joinable, meta, partial_model, queryable, sql_enum,
    sql_type, sql_types, table, values,
};
pub use pool::LifeguardPool;
