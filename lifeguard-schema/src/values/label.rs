//! The text of a value of a user-declared type.

use std::error::Error;
use std::fmt;

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

/// The text of a value of a type declared with [`sql_type!`](crate::sql_type), such as an
/// enum's label: what an entity model reads such a column into. It reads and writes enums
/// (whose binary form is the label) and text-like types (`text`, `varchar`, `char`, `name`,
/// `citext`); any other type (a composite, a range, `numeric(10,2)`) is refused with a typed
/// error naming the column, never read as garbage: declare those with a type of their own.
///
/// ```
/// use lifeguard_schema::values::Label;
/// let l = Label::from("happy");
/// assert_eq!(l.as_str(), "happy");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Label(pub String);

impl Label {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Label {
    fn from(s: &str) -> Label {
        Label(s.to_owned())
    }
}

impl From<String> for Label {
    fn from(s: String) -> Label {
        Label(s)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> FromSql<'a> for Label {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Label, Box<dyn Error + Sync + Send>> {
        Ok(Label(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        labelled(ty)
    }
}

/// Whether values of `ty` are text in the binary protocol.
fn labelled(ty: &Type) -> bool {
    matches!(ty.kind(), Kind::Enum(_))
        || matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
        )
        || ty.name() == "citext"
}

impl ToSql for Label {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        labelled(ty)
    }

    to_sql_checked!();
}

impl serde::Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        String::deserialize(d).map(Label)
    }
}
