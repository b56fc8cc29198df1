//! Field validators, declared on columns with `#[validate(…)]`, and the error that reports
//! every failing field at once.
//!
//! ```
//! lifeguard_schema::table! {
//!     users (id) {
//!         id -> Int8,
//!         #[max_length = 20]
//!         #[validate(length(min = 2))]
//!         name -> Varchar,
//!         #[validate(email)]
//!         email -> Text,
//!         #[validate(range(min = 0, max = 150))]
//!         age -> Nullable<Int4>,
//!     }
//! }
//! use lifeguard_schema::entity::{LifeRecord, ValidationErrors};
//!
//! let mut rec = users::Record::default();
//! rec.name.set("a");
//! rec.email.set("not an address");
//! rec.age.set(Some(200));
//! let mut errors = ValidationErrors::default();
//! rec.validate_fields(&mut errors);
//! assert_eq!(errors.fields(), vec!["name", "email", "age"]);
//! ```
//!
//! Rules: `length(min = …, max = …)` (characters, for text), `range(min = …, max = …)`
//! (for numbers), `email`, `not_blank`, `custom = path::to::fn` (a
//! `fn(&T) -> Result<(), String>`). A column's `#[max_length = n]` is also checked. A NULL
//! (`None`) passes every rule but `custom`'s, which sees the `Option`.

use std::fmt;

/// One failed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (column) name, or `""` for a model-level rule.
    pub field: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

/// Every rule that failed, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// Records that `field` fails with `message`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The failing fields, each once, in order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for e in &self.errors {
            if !out.contains(&e.field) {
                out.push(e.field);
            }
        }
        out
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.field.is_empty() {
                write!(f, "{}", e.message)?;
            } else {
                write!(f, "{}: {}", e.field, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// A value a text rule reads (`String`, `Option<String>`, a label).
pub trait TextValue {
    /// The text, or `None` for NULL.
    fn text(&self) -> Option<&str>;
}

impl TextValue for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: TextValue> TextValue for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref().and_then(TextValue::text)
    }
}

impl TextValue for crate::values::Label {
    fn text(&self) -> Option<&str> {
        Some(self.as_str())
    }
}

/// A value a range rule reads (numbers, and their `Option`s).
pub trait NumberValue {
    /// The number, or `None` for NULL.
    fn number(&self) -> Option<f64>;
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl NumberValue for $t {
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}
numbers!(i16, i32, i64, f32, f64);

impl<T: NumberValue> NumberValue for Option<T> {
    fn number(&self) -> Option<f64> {
        self.as_ref().and_then(NumberValue::number)
    }
}

/// `length(min = …, max = …)`: the text's length in characters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Length {
    min: Option<usize>,
    max: Option<usize>,
}

impl Length {
    /// No bounds yet.
    pub fn new() -> Length {
        Length::default()
    }
    /// At least `n` characters.
    pub fn min(mut self, n: usize) -> Length {
        self.min = Some(n);
        self
    }
    /// At most `n` characters.
    pub fn max(mut self, n: usize) -> Length {
        self.max = Some(n);
        self
    }
    /// Checks `value`, adding a failure for `field`.
    pub fn check(
        &self,
        value: &impl TextValue,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        let Some(text) = value.text() else { return };
        let n = text.chars().count();
        match (self.min, self.max) {
            (Some(min), _) if n < min => errors.add(
                field,
                format!("must be at least {min} characters long (is {n})"),
            ),
            (_, Some(max)) if n > max => errors.add(
                field,
                format!("must be at most {max} characters long (is {n})"),
            ),
            _ => {}
        }
    }
}

/// `range(min = …, max = …)`: a number's bounds, inclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    min: Option<f64>,
    max: Option<f64>,
}

impl Range {
    /// No bounds yet.
    pub fn new() -> Range {
        Range::default()
    }
    /// At least `n`.
    pub fn min(mut self, n: impl Into<f64>) -> Range {
        self.min = Some(n.into());
        self
    }
    /// At most `n`.
    pub fn max(mut self, n: impl Into<f64>) -> Range {
        self.max = Some(n.into());
        self
    }
    /// Checks `value`, adding a failure for `field`.
    pub fn check(
        &self,
        value: &impl NumberValue,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        let Some(x) = value.number() else { return };
        match (self.min, self.max) {
            (Some(min), _) if x < min => {
                errors.add(field, format!("must be at least {min} (is {x})"))
            }
            (_, Some(max)) if x > max => {
                errors.add(field, format!("must be at most {max} (is {x})"))
            }
            _ => {}
        }
    }
}

/// `email`: one `@` with something before it and a dotted domain after it, no spaces.
pub fn email(value: &impl TextValue, field: &'static str, errors: &mut ValidationErrors) {
    let Some(text) = value.text() else { return };
    let ok = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        errors.add(field, "is not an email address");
    }
}

/// `not_blank`: text with something other than whitespace.
pub fn not_blank(value: &impl TextValue, field: &'static str, errors: &mut ValidationErrors) {
    if value.text().is_some_and(|t| t.trim().is_empty()) {
        errors.add(field, "must not be blank");
    }
}

/// `custom = f`: `f(value)` returns the failure's message.
pub fn custom<T>(
    value: &T,
    f: impl FnOnce(&T) -> Result<(), String>,
    field: &'static str,
    errors: &mut ValidationErrors,
) {
    if let Err(message) = f(value) {
        errors.add(field, message);
    }
}
