//! Typed reading of an ARM body as a resource provider reads it: property names in any case,
//! `"true"`/`"false"` for booleans and numeric strings for integers. A value that is really of
//! the wrong shape does not spoil the body: it is left out and reported as a [`Flaw`] at its
//! pointer, so that only the rules reading that property say "could not verify".

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess};
use serde::forward_to_deserialize_any;
use serde_json::Value;

use super::escape;
use super::json::{self, key_of, same_name, Members as _};

/// A property whose value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flaw {
    /// JSON pointer into the body, in the spelling of the typed model.
    pub pointer: String,
    /// What was expected and what was found (`expected an integer, found the string "ninety"`).
    pub message: String,
}

/// A body read, with what could not be.
#[derive(Debug, Clone)]
pub struct Lenient<T> {
    pub value: T,
    pub flaws: Vec<Flaw>,
}

/// Bounds the retries: each flaw removes at least one value, and real bodies have a few hundred.
const MAX_FLAWS: usize = 256;

/// Reads `body` as a `T`. `Err` when the body as a whole is unusable (not an object, or too
/// many wrong values to be the body ARM returns).
pub fn read<T: DeserializeOwned>(body: &Value) -> Result<Lenient<T>, Flaw> {
    let mut body = body.clone();
    let mut flaws = Vec::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(ArmValue(&body)) {
            Ok(value) => return Ok(Lenient { value, flaws }),
            Err(error) => error,
        };
        let path: Vec<Step> = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
                _ => None,
            })
            .collect();
        let flaw = Flaw {
            pointer: pointer(&path),
            message: error.inner().to_string(),
        };
        if path.is_empty() || flaws.len() >= MAX_FLAWS || !remove(&mut body, &path) {
            return Err(flaw);
        }
        flaws.push(flaw);
    }
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn pointer(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Key(key) => format!("/{}", escape(key)),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// Takes the value at `path` out of `body`. An element of an array takes its array with it:
/// the rules read arrays whole, and the pointers of the other elements must stay true.
fn remove(body: &mut Value, path: &[Step]) -> bool {
    let end = path
        .iter()
        .position(|step| matches!(step, Step::Index(_)))
        .unwrap_or(path.len());
    let Some(Step::Key(name)) = path[..end].last() else {
        return false;
    };
    let mut current = body;
    for step in &path[..end - 1] {
        let Step::Key(key) = step else {
            return false;
        };
        current = match current.member_mut(key) {
            Some(next) => next,
            None => return false,
        };
    }
    let Some(map) = current.as_object_mut() else {
        return false;
    };
    let Some(found) = key_of(map, name).cloned() else {
        return false;
    };
    map.remove(&found).is_some()
}

/// A deserializer over a JSON value with ARM's reading rules.
struct ArmValue<'a>(&'a Value);

#[derive(Debug)]
pub struct ReadError(String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// How a value looks in a message.
fn found(value: &Value) -> String {
    match value {
        Value::Null => "`null`".to_string(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("the string `{head}…`")
        }
        Value::String(s) => format!("the string `{s}`"),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn wrong(expected: &str, value: &Value) -> ReadError {
    ReadError(format!("expected {expected}, found {}", found(value)))
}

/// `90`, `"90"`: what a resource provider reads as an integer, in the widest range any field
/// of the models holds.
fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(i128::from)
            .or_else(|| json::integer(value).map(i128::from)),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    }
}

macro_rules! integers {
    ($($method:ident => $visit:ident as $ty:ty),* $(,)?) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
            match integer(self.0).and_then(|n| <$ty>::try_from(n).ok()) {
                Some(n) => visitor.$visit(n),
                None => Err(match integer(self.0) {
                    Some(n) => ReadError(format!("expected an integer that fits, found `{n}`")),
                    None => wrong("an integer", self.0),
                }),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ArmValue<'de> {
    type Error = ReadError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                _ => Err(wrong("a number", self.0)),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Elements(items.iter())),
            Value::Object(map) => visitor.visit_map(Entries {
                entries: map.iter(),
                fields: None,
                seen: Vec::new(),
                pending: None,
            }),
        }
    }

    fn deserialize_bool<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match json::boolean(self.0) {
            Some(b) => visitor.visit_bool(b),
            None => Err(wrong("`true` or `false`", self.0)),
        }
    }

    integers! {
        deserialize_i8 => visit_i8 as i8,
        deserialize_i16 => visit_i16 as i16,
        deserialize_i32 => visit_i32 as i32,
        deserialize_i64 => visit_i64 as i64,
        deserialize_u8 => visit_u8 as u8,
        deserialize_u16 => visit_u16 as u16,
        deserialize_u32 => visit_u32 as u32,
        deserialize_u64 => visit_u64 as u64,
    }

    fn deserialize_f64<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        let number = match self.0 {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        match number {
            Some(f) => visitor.visit_f64(f),
            None => Err(wrong("a number", self.0)),
        }
    }

    fn deserialize_f32<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::String(s) => visitor.visit_borrowed_str(s),
            other => Err(wrong("a string", other)),
        }
    }

    fn deserialize_string<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            other => Err(wrong("`null`", other)),
        }
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Elements(items.iter())),
            other => Err(wrong("an array", other)),
        }
    }

    fn deserialize_map<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries {
                entries: map.iter(),
                fields: None,
                seen: Vec::new(),
                pending: None,
            }),
            other => Err(wrong("an object", other)),
        }
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries {
                entries: map.iter(),
                fields: Some(fields),
                seen: Vec::new(),
                pending: None,
            }),
            other => Err(wrong("an object", other)),
        }
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit_struct tuple tuple_struct enum identifier
    }
}

struct Elements<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for Elements<'de> {
    type Error = ReadError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, ReadError> {
        match self.0.next() {
            Some(value) => seed.deserialize(ArmValue(value)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The members of an object. For a struct, each name is given in the spelling of its field,
/// whatever case the body uses; a second spelling of a field already read is skipped.
struct Entries<'de> {
    entries: serde_json::map::Iter<'de>,
    fields: Option<&'static [&'static str]>,
    seen: Vec<&'static str>,
    pending: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ReadError> {
        for (key, value) in self.entries.by_ref() {
            let name: &'de str = match self.fields {
                None => key.as_str(),
                Some(fields) => {
                    let field = fields
                        .iter()
                        .find(|f| **f == key)
                        .or_else(|| fields.iter().find(|f| same_name(f, key)));
                    match field {
                        Some(field) if self.seen.contains(field) => continue,
                        Some(field) => {
                            self.seen.push(field);
                            field
                        }
                        None => key.as_str(),
                    }
                }
            };
            self.pending = Some(value);
            let key = BorrowedStrDeserializer::<'de, ReadError>::new(name);
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, ReadError> {
        match self.pending.take() {
            Some(value) => seed.deserialize(ArmValue(value)),
            None => Err(ReadError("a value without its name".to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Props {
        enable_purge_protection: Option<bool>,
        soft_delete_retention_in_days: Option<i64>,
        key_size: Option<u32>,
        tenant_id: Option<String>,
        access_policies: Option<Vec<Policy>>,
        identities: Option<BTreeMap<String, Value>>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Policy {
        object_id: Option<String>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Body {
        properties: Option<Props>,
        location: Option<String>,
    }

    #[test]
    fn names_in_any_case_and_coerced_primitives() {
        let body = json!({"Properties": {"EnablePurgeProtection": "True", "softdeleteretentionindays": "90", "KEYSIZE": 2048}});
        let read = read::<Body>(&body).unwrap();
        assert!(read.flaws.is_empty());
        let props = read.value.properties.unwrap();
        assert_eq!(props.enable_purge_protection, Some(true));
        assert_eq!(props.soft_delete_retention_in_days, Some(90));
        assert_eq!(props.key_size, Some(2048));
    }

    #[test]
    fn a_wrong_value_spoils_only_itself() {
        let body = json!({"location": true, "properties": {"softDeleteRetentionInDays": "ninety", "tenantId": "t"}});
        let read = read::<Body>(&body).unwrap();
        let pointers: Vec<&str> = read.flaws.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/location", "/properties/softDeleteRetentionInDays"]
        );
        assert_eq!(read.value.location, None);
        let props = read.value.properties.unwrap();
        assert_eq!(props.tenant_id.as_deref(), Some("t"));
        assert_eq!(props.soft_delete_retention_in_days, None);
        assert!(read.flaws[1].message.contains("`ninety`"));
    }

    #[test]
    fn a_wrong_element_takes_its_array() {
        let body =
            json!({"properties": {"accessPolicies": [{"objectId": "a"}, "oops"], "keySize": -1}});
        let read = read::<Body>(&body).unwrap();
        let pointers: Vec<&str> = read.flaws.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/properties/accessPolicies/1", "/properties/keySize"]
        );
        assert_eq!(read.value.properties.unwrap().access_policies, None);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_unusable() {
        assert!(read::<Body>(&json!("vault")).is_err());
        assert!(read::<Body>(&json!({"properties": {"identities": {"x": 1}}})).is_ok());
    }
}
