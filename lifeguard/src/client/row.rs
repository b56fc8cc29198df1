//! Result rows, decoded by position (or by name) through `FromSql`.

use std::ops::Range;
use std::sync::Arc;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::DataRowBody;
use postgres_types::FromSql;

use super::error::{Error, Result};
use super::statement::Column;

/// One row of a result.
pub struct Row {
    columns: Arc<[Column]>,
    body: DataRowBody,
    ranges: Vec<Option<Range<usize>>>,
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
    pub(crate) fn new(columns: Arc<[Column]>, body: DataRowBody) -> Result<Row> {
        let ranges: Vec<_> = body
            .ranges()
            .collect()
            .map_err(|e| Error::protocol(format!("malformed data row: {e}")))?;
        if ranges.len() != columns.len() {
            return Err(Error::protocol(format!(
                "data row has {} values for {} columns",
                ranges.len(),
                columns.len()
            )));
        }
        Ok(Row {
            columns,
            body,
            ranges,
        })
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
        matches!(self.ranges.get(idx), Some(None))
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
        let raw = self.ranges[i].clone().map(|r| &self.body.buffer()[r]);
        T::from_sql_nullable(&col.type_, raw).map_err(wrap)
    }

    /// The raw binary value of a column (`None` for NULL).
    pub fn raw(&self, i: usize) -> Option<&[u8]> {
        self.ranges.get(i)?.clone().map(|r| &self.body.buffer()[r])
    }
}
