//! The seam where a read-through cache of entity rows plugs in. An executor offers one
//! through [`LifeExecutor::entity_cache`](crate::executor::LifeExecutor::entity_cache) (none
//! by default); `find_by_id` reads through it, and every single-row write invalidates the
//! row's entry (bulk writes, the table's). With no cache the seam is one `None` check.

use lifeguard_schema::entity::Entity;
use lifeguard_schema::meta::TableMeta;

use crate::client::Result;
use crate::executor::LifeExecutor;

/// A cache of entity rows, keyed by table and primary key (the key as JSON), holding rows
/// serialized as JSON.
pub trait EntityCache: Send + Sync {
    /// The cached row, if any.
    fn get(&self, table: &'static TableMeta, key: &str) -> Option<String>;
    /// Stores a row read from the database.
    fn put(&self, table: &'static TableMeta, key: &str, row: &str);
    /// Drops the row's entry (after a write of it).
    fn invalidate(&self, table: &'static TableMeta, key: &str);
    /// Drops every entry of the table (after a write of many rows).
    fn invalidate_table(&self, table: &'static TableMeta);
}

fn key_text<T: Entity>(key: &T::Key) -> Option<String> {
    serde_json::to_string(key).ok()
}

/// `find_by_id`: through the executor's cache when it has one, else `load`.
pub(crate) fn read_through<T: Entity, E: LifeExecutor + ?Sized>(
    db: &E,
    key: &T::Key,
    load: impl FnOnce() -> Result<Option<T::Model>>,
) -> Result<Option<T::Model>> {
    let Some(cache) = db.entity_cache() else {
        return load();
    };
    let Some(k) = key_text::<T>(key) else {
        return load();
    };
    if let Some(hit) = cache.get(T::meta(), &k)
        && let Ok(model) = serde_json::from_str::<T::Model>(&hit)
    {
        return Ok(Some(model));
    }
    let found = load()?;
    if let Some(model) = &found
        && let Ok(text) = serde_json::to_string(model)
    {
        cache.put(T::meta(), &k, &text);
    }
    Ok(found)
}

/// After a single-row write.
pub(crate) fn after_write<T: Entity, E: LifeExecutor + ?Sized>(db: &E, key: &T::Key) {
    if let Some(cache) = db.entity_cache() {
        match key_text::<T>(key) {
            Some(k) => cache.invalidate(T::meta(), &k),
            None => cache.invalidate_table(T::meta()),
        }
    }
}

/// After a write of many rows.
pub(crate) fn after_bulk_write<T: Entity, E: LifeExecutor + ?Sized>(db: &E) {
    if let Some(cache) = db.entity_cache() {
        cache.invalidate_table(T::meta());
    }
}
