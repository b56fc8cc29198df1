//! Resolving type OIDs: built-in types are known statically; enums, domains, composites,
//! ranges and arrays of them are looked up in `pg_type` once per connection and cached.

use postgres_types::{Field, Kind, Type};

use super::Client;
use super::error::{Error, Result};
use super::pipeline::lock;

const TYPEINFO: &str = "SELECT t.typname, t.typtype, t.typelem, r.rngsubtype, t.typbasetype, \
     n.nspname, t.typrelid \
     FROM pg_catalog.pg_type t \
     LEFT OUTER JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid \
     INNER JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid \
     WHERE t.oid = $1";

const ENUM_LABELS: &str =
    "SELECT enumlabel FROM pg_catalog.pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder";

const COMPOSITE_FIELDS: &str = "SELECT attname, atttypid FROM pg_catalog.pg_attribute \
     WHERE attrelid = $1 AND NOT attisdropped AND attnum > 0 ORDER BY attnum";

/// The [`Type`] for `oid` on this connection.
pub(crate) fn resolve(client: &Client, oid: u32) -> Result<Type> {
    if let Some(t) = Type::from_oid(oid) {
        return Ok(t);
    }
    if let Some(t) = lock(client.inner().types_cache()).get(&oid) {
        return Ok(t.clone());
    }
    let row = client
        .query_opt(TYPEINFO, &[&oid])?
        .ok_or_else(|| Error::protocol(format!("the server reported unknown type OID {oid}")))?;
    let name: String = row.try_get(0)?;
    let typtype: i8 = row.try_get(1)?;
    let elem: u32 = row.try_get(2)?;
    let range_sub: Option<u32> = row.try_get(3)?;
    let base: u32 = row.try_get(4)?;
    let schema: String = row.try_get(5)?;
    let relid: u32 = row.try_get(6)?;
    let kind = match typtype as u8 {
        b'e' => {
            let labels = client
                .query(ENUM_LABELS, &[&oid])?
                .iter()
                .map(|r| r.try_get::<_, String>(0))
                .collect::<Result<Vec<_>>>()?;
            Kind::Enum(labels)
        }
        b'p' => Kind::Pseudo,
        b'd' => Kind::Domain(resolve(client, base)?),
        _ if elem != 0 => Kind::Array(resolve(client, elem)?),
        _ if range_sub.is_some() => Kind::Range(resolve(client, range_sub.unwrap_or(0))?),
        _ if relid != 0 => {
            let mut fields = Vec::new();
            for r in client.query(COMPOSITE_FIELDS, &[&relid])? {
                let fname: String = r.try_get(0)?;
                let ftype: u32 = r.try_get(1)?;
                fields.push(Field::new(fname, resolve(client, ftype)?));
            }
            Kind::Composite(fields)
        }
        _ => Kind::Simple,
    };
    let ty = Type::new(name, oid, kind, schema);
    lock(client.inner().types_cache()).insert(oid, ty.clone());
    Ok(ty)
}

/// The base type of a domain (through nested domains); any other type itself.
pub(crate) fn domain_base(ty: &Type) -> &Type {
    let mut t = ty;
    while let Kind::Domain(base) = t.kind() {
        t = base;
    }
    t
}
