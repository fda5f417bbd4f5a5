//! JSON Schemas for the wire types (feature `schema`, used by the server to
//! publish the admin API's OpenAPI description). Types with hand-written
//! serde forms get hand-written schemas here; the rest derive them.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::detect::Entity;
use crate::policy::RuleKey;

impl JsonSchema for Entity {
    fn schema_name() -> Cow<'static, str> {
        "Entity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Entity::ALL.iter().map(|e| e.as_str()).collect();
        json_schema!({
            "type": "string",
            "enum": names,
            "description": "A built-in detector, named as in Microsoft Presidio where one exists."
        })
    }
}

impl JsonSchema for RuleKey {
    fn schema_name() -> Cow<'static, str> {
        "RuleKey".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An entity name (e.g. EMAIL_ADDRESS) or custom:<uuid> for a custom regex rule.",
            "examples": ["US_SSN", "custom:6f9619ff-8b86-d011-b42d-00cf4fc964ff"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_schema_lists_every_entity() {
        let s = schemars::schema_for!(Entity);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["enum"].as_array().unwrap().len(), Entity::ALL.len());
        let r = serde_json::to_value(schemars::schema_for!(crate::api::RulesView)).unwrap();
        assert!(r["$defs"]["EntityRule"].is_object(), "{r}");
    }
}
