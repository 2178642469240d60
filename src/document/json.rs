//! Reading raw JSON the way ARM does: a property name matches in any case (`dataencryption` is
//! `dataEncryption`), the exact spelling first.

use serde_json::{Map, Value};

/// Case-insensitive access to the members of a JSON value.
pub trait Members {
    /// The member `name`, in any case; `None` when absent or when this is not an object.
    fn member(&self, name: &str) -> Option<&Value>;
    fn member_mut(&mut self, name: &str) -> Option<&mut Value>;
    /// The member at a JSON pointer (`/properties/dataEncryption`), names in any case.
    fn at(&self, pointer: &str) -> Option<&Value>;
    /// The member as a string, when it is one.
    fn text(&self, name: &str) -> Option<&str> {
        self.member(name).and_then(Value::as_str)
    }
    /// Sets `name`, under the spelling it already has if any: makes this an object first
    /// when it is null, and does nothing to a value of another type.
    fn put(&mut self, name: &str, value: Value);
}

/// The key of `map` that is `name` in any case, the exact spelling first.
pub fn key_of<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    if let Some((key, _)) = map.get_key_value(name) {
        return Some(key);
    }
    map.keys().find(|k| same_name(k, name))
}

/// ARM compares property names with ordinal case folding.
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase())
}

/// A boolean as ARM's resource providers and template engine read one: `true`, or the string
/// `"true"` in any case.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An integer as ARM reads one: `90`, or the string `"90"`.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

impl Members for Value {
    fn member(&self, name: &str) -> Option<&Value> {
        let map = self.as_object()?;
        map.get(key_of(map, name)?)
    }

    fn member_mut(&mut self, name: &str) -> Option<&mut Value> {
        let map = self.as_object_mut()?;
        let key = key_of(map, name)?.clone();
        map.get_mut(&key)
    }

    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut current = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            current = match current {
                Value::Object(_) => current.member(&token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    fn put(&mut self, name: &str, value: Value) {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        let Some(map) = self.as_object_mut() else {
            return;
        };
        let key = key_of(map, name)
            .cloned()
            .unwrap_or_else(|| name.to_string());
        map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_match_in_any_case_exact_first() {
        let v = json!({"properties": {"dataencryption": {"Type": "AzureKeyVault"}}, "Name": 1, "name": 2});
        assert_eq!(
            v.at("/Properties/dataEncryption/type"),
            Some(&json!("AzureKeyVault"))
        );
        assert_eq!(v.member("name"), Some(&json!(2)));
        assert_eq!(v.member("NAME"), Some(&json!(1)));
        assert!(v.at("/properties/nothing").is_none());
    }

    #[test]
    fn put_keeps_the_existing_spelling() {
        let mut v = json!({"KeySize": 1024});
        v.put("keySize", json!(2048));
        assert_eq!(v, json!({"KeySize": 2048}));
        let mut s = json!("text");
        s.put("x", json!(1));
        assert_eq!(s, json!("text"));
        let mut n = Value::Null;
        n.put("x", json!(1));
        assert_eq!(n, json!({"x": 1}));
    }

    #[test]
    fn primitives_are_coerced_as_arm_does() {
        assert_eq!(boolean(&json!("True")), Some(true));
        assert_eq!(boolean(&json!(false)), Some(false));
        assert_eq!(boolean(&json!("yes")), None);
        assert_eq!(integer(&json!("90")), Some(90));
        assert_eq!(integer(&json!(-3)), Some(-3));
        assert_eq!(integer(&json!(2.5)), None);
        assert_eq!(integer(&json!("ninety")), None);
    }
}
