//! An ARM body assembled from a plan resource's values: where each part is written, what is
//! known only after apply, and the HCL attribute of each property for fixes.

use serde_json::Value;

use super::plan::Instance;
use super::values::{hcl_path, put_at, Builder, Expect, Leaf};
use crate::document::lenient::Flaw;
use crate::model::Body;
use crate::state::{Block, Declared, Gap, Place, Resource, Unknown, WrittenIn};

/// Where a part of the body is written: in the plan, and in the `.tf` files when at hand.
#[derive(Debug, Clone)]
pub(super) struct Spot {
    pub at: String,
    pub written_in: Option<WrittenIn>,
}

impl Spot {
    pub fn of(place: Place) -> Option<Self> {
        Some(Self {
            at: place.label_at?,
            written_in: place.written_in,
        })
    }

    /// The spot `inside` this one (a member of a string body's JSON, a policy of a list).
    pub fn inside(&self, rest: &str) -> Self {
        Self {
            at: format!("{}{rest}", self.at),
            written_in: self.written_in.as_ref().map(|w| WrittenIn {
                doc: w.doc.clone(),
                pointer: format!("{}{rest}", w.pointer),
            }),
        }
    }
}

/// An ARM body assembled from an instance's values: where each part is written, what is not
/// known, and the HCL attribute of each property for fixes.
pub(super) struct Shaped<'b, 'p> {
    pub builder: &'b Builder<'p>,
    pub instance: &'b Instance<'p>,
    pub id: String,
    pub body: Value,
    moves: Vec<(String, Spot)>,
    pub unknown: Vec<Unknown>,
    attributes: Vec<(String, String)>,
}

impl<'b, 'p> Shaped<'b, 'p> {
    pub fn new(builder: &'b Builder<'p>, instance: &'b Instance<'p>, kind: &str) -> Self {
        let id = builder
            .id_of(instance, 0)
            .unwrap_or_else(|| instance.address.clone());
        let mut body = serde_json::json!({ "id": id, "type": kind });
        if let Some(name) = builder.name(instance) {
            body["name"] = Value::String(name);
        }
        Self {
            builder,
            instance,
            id,
            body,
            moves: Vec::new(),
            unknown: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// Records that the ARM `pointer` is written at `path` of the values (for labels and fixes).
    pub fn written_at(&mut self, pointer: &str, path: &[&str]) {
        let place = self.builder.place(self.instance, &self.id, pointer, path);
        if let Some(spot) = Spot::of(place) {
            self.moves.push((pointer.to_string(), spot));
        }
        self.attributes.push((pointer.to_string(), hcl_path(path)));
    }

    /// The leaf at `path` put at the ARM `pointer`, converted; `default` when it is absent; an
    /// unknown when it is known only after apply. Returns what was put.
    pub fn map(
        &mut self,
        pointer: &str,
        path: &[&str],
        expect: Expect,
        convert: impl Fn(Value) -> Value,
        default: Option<Value>,
    ) -> Option<Value> {
        let leaf = self.builder.leaf(self.instance, path, expect);
        // A value given by what it references is not in the plan: its label goes on the `true`
        // of `after_unknown`.
        if self.builder.raw(self.instance, path).1 {
            let at = self
                .builder
                .unknown_place(self.instance, &self.id, pointer, path);
            if let Some(spot) = Spot::of(at) {
                self.moves.push((pointer.to_string(), spot));
            }
            self.attributes.push((pointer.to_string(), hcl_path(path)));
        } else {
            self.written_at(pointer, path);
        }
        let value = match leaf {
            Leaf::Known(value) => convert(value),
            Leaf::Absent => default?,
            Leaf::Unknown => {
                let unknown = self.builder.unknown(self.instance, &self.id, pointer, path);
                self.unknown.push(unknown);
                return None;
            }
        };
        put_at(&mut self.body, pointer, value.clone());
        Some(value)
    }

    /// A value cmk-check gives itself (a default, a stand-in), at the ARM `pointer`.
    pub fn set(&mut self, pointer: &str, value: Value) {
        put_at(&mut self.body, pointer, value);
    }

    /// Records that the ARM `pointer` is written somewhere else in the plan.
    pub fn moved(&mut self, pointer: &str, spot: Spot) {
        self.moves.push((pointer.to_string(), spot));
    }

    /// Where the parts of the body are written, for another body that takes them in.
    pub fn moves(&self) -> &[(String, Spot)] {
        &self.moves
    }

    /// The body read as ARM reads it, declared by the instance's address.
    pub fn finish<T: Body>(self) -> Result<Resource<T>, Gap> {
        let builder = self.builder;
        let instance = self.instance;
        let mut resource =
            Resource::<T>::read(&self.body, &builder.doc, &instance.pointer, &self.id).map_err(
                |flaw: Flaw| {
                    builder.gap(
                        instance,
                        &self.id,
                        &[],
                        format!("`{}` cannot be read: {}", instance.address, flaw.message),
                        flaw.message.clone(),
                        "give it the shape the provider documents".to_string(),
                    )
                },
            )?;
        if let Some(name) = builder.name(instance) {
            resource.name = name;
        }
        resource.id = self.id;
        let mut moves = self.moves;
        moves.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        resource.remap = moves
            .iter()
            .map(|(prefix, spot)| (prefix.clone(), spot.at.clone()))
            .collect();
        let block = builder
            .hcl
            .locate(instance, &[])
            .map(|(doc, pointer)| Block {
                doc,
                pointer,
                remap: moves
                    .into_iter()
                    .filter_map(|(prefix, spot)| Some((prefix, spot.written_in?)))
                    .collect(),
            });
        let mut attributes = self.attributes;
        attributes.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        resource.declared = Some(Declared::Terraform {
            address: instance.address.clone(),
            attributes,
            block,
        });
        let flawed: Vec<Unknown> = std::mem::take(&mut resource.unknown);
        for mut unknown in flawed {
            unknown.at = resource.at(unknown.pointer.clone());
            unknown.reason = format!("{} (`{}`)", unknown.reason, instance.address);
            resource.unknown.push(unknown);
        }
        resource.unknown.extend(self.unknown);
        Ok(resource)
    }
}
