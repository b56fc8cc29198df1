//! Result rows, decoded by position (or by name) through `FromSql`.

use std::sync::Arc;

use bytes::Bytes;
use postgres_types::FromSql;

use super::error::{Error, Result};
use super::statement::Column;

/// One row of a result.
pub struct Row {
    columns: Arc<[Column]>,
    /// The DataRow message's body, shared with the rest of the chunk it arrived in.
    body: Bytes,
    values: Values,
}

/// Where each value lies in a row's body: `(start, length)`, a negative length for NULL.
/// Rows of up to [`INLINE`] columns keep them in place, so building one allocates nothing.
enum Values {
    Inline([(u32, i32); INLINE]),
    Heap(Box<[(u32, i32)]>),
}

const INLINE: usize = 6;

impl Values {
    fn get(&self, i: usize) -> Option<(u32, i32)> {
        match self {
            Values::Inline(v) => v.get(i).copied(),
            Values::Heap(v) => v.get(i).copied(),
        }
    }
}

/// The `(start, length)` of each value of a DataRow body, checked against its length.
fn value_spans(body: &[u8], mut each: impl FnMut(usize, (u32, i32))) -> Result<usize> {
    let malformed = |what: &str| Error::protocol(format!("malformed data row: {what}"));
    let count = match body {
        [a, b, ..] => i16::from_be_bytes([*a, *b]),
        _ => return Err(malformed("missing value count")),
    };
    let count = usize::try_from(count).map_err(|_| malformed("negative value count"))?;
    let mut pos = 2usize;
    for i in 0..count {
        let Some(&[a, b, c, d]) = body.get(pos..pos + 4) else {
            return Err(malformed("invalid message length: datarow overrun"));
        };
        let len = i32::from_be_bytes([a, b, c, d]);
        pos += 4;
        let start = pos as u32;
        if len >= 0 {
            pos += len as usize;
            if pos > body.len() {
                return Err(malformed("invalid message length: datarow overrun"));
            }
        }
        each(i, (start, len));
    }
    if pos != body.len() {
        return Err(malformed(
            "invalid message length: datarowrange is not empty",
        ));
    }
    Ok(count)
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Row")
            .field("columns", &self.columns)
            .finish()
    }
}

/// Something that names a column: its position (`usize`) or its name (`&str`).
pub trait RowIndex: std::fmt::Display {
    /// The column's position, if it exists.
    fn index(&self, columns: &[Column]) -> Option<usize>;
}

impl RowIndex for usize {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
}

impl RowIndex for str {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name == self)
    }
}

impl<T: RowIndex + ?Sized> RowIndex for &T {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        T::index(self, columns)
    }
}

impl Row {
    pub(crate) fn new(columns: Arc<[Column]>, body: Bytes) -> Result<Row> {
        let n = columns.len();
        let mismatch =
            |got: usize| Error::protocol(format!("data row has {got} values for {n} columns"));
        let values = if n <= INLINE {
            let mut v = [(0u32, -1i32); INLINE];
            let got = value_spans(&body, |i, span| {
                if let Some(slot) = v.get_mut(i) {
                    *slot = span;
                }
            })?;
            if got != n {
                return Err(mismatch(got));
            }
            Values::Inline(v)
        } else {
            let mut v = Vec::with_capacity(n);
            let got = value_spans(&body, |_, span| v.push(span))?;
            if got != n {
                return Err(mismatch(got));
            }
            Values::Heap(v.into_boxed_slice())
        };
        Ok(Row {
            columns,
            body,
            values,
        })
    }

    /// The bytes of value `i` (`Some(None)` for NULL, `None` when there is no such column).
    fn value(&self, i: usize) -> Option<Option<&[u8]>> {
        if i >= self.columns.len() {
            return None;
        }
        let (start, len) = self.values.get(i)?;
        Some((len >= 0).then(|| &self.body[start as usize..start as usize + len as usize]))
    }

    /// The result's columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Number of values in the row.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the value at `idx` is NULL (`false` when there is no such column).
    pub fn is_null(&self, idx: usize) -> bool {
        matches!(self.value(idx), Some(None))
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Reads a value, panicking with the conversion error if it fails. See [`Row::try_get`].
    #[track_caller]
    pub fn get<'a, I, T>(&'a self, idx: I) -> T
    where
        I: RowIndex,
        T: FromSql<'a>,
    {
        match self.try_get(idx) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// Reads a value by position or name. SQL NULL reads as `None` into an `Option`, and is an
    /// error for any other type.
    pub fn try_get<'a, I, T>(&'a self, idx: I) -> Result<T>
    where
        I: RowIndex,
        T: FromSql<'a>,
    {
        let i = idx
            .index(&self.columns)
            .ok_or_else(|| Error::ColumnNotFound(idx.to_string()))?;
        let col = &self.columns[i];
        let wrap = |source| Error::FromSql {
            column: col.name.clone(),
            sql_type: col.type_.to_string(),
            rust_type: std::any::type_name::<T>(),
            source,
        };
        if !T::accepts(&col.type_) {
            return Err(wrap(
                format!(
                    "{} cannot be read from {}",
                    std::any::type_name::<T>(),
                    col.type_
                )
                .into(),
            ));
        }
        let raw = self.value(i).flatten();
        T::from_sql_nullable(&col.type_, raw).map_err(wrap)
    }

    /// The raw binary value of a column (`None` for NULL).
    pub fn raw(&self, i: usize) -> Option<&[u8]> {
        self.value(i).flatten()
    }
}
