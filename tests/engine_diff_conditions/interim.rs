//! Until the language compiles conditions: a random schema compiled
//! without its traits, then given its conditions and traited types in the
//! IR and loaded again (which validates it). A type `with expiration`
//! alone also accepts plain tuples (expiry is allowed, not required), so
//! its base stays among the plain types.
use super::model::{Kind, Model, Traits, Ty, CONDITIONS};
use zanzi::ir::{AllowedType, Condition, Param, ParamType, RelationKind, Schema, TraitedType};

pub fn compile(model: &Model) -> Option<Schema> {
    let mut plain = model.clone();
    for members in &mut plain.namespaces {
        for (_, kind) in members {
            if let Kind::Relation(types, _) = kind {
                for t in types.iter_mut() {
                    t.1 = Traits::default();
                }
                types.sort();
                types.dedup();
            }
        }
    }
    let source = plain.source();
    let source = source.lines().skip(3).collect::<Vec<_>>().join("\n");
    let (_, compiled) = zanzi::compile_source("random.zanzi", &source);
    let mut schema = compiled.schema?;
    schema.conditions = CONDITIONS
        .iter()
        .map(|(name, params)| Condition {
            name: (*name).to_owned(),
            doc: None,
            params: params
                .iter()
                .map(|p| Param {
                    name: (*p).to_owned(),
                    ty: ParamType::Bool,
                })
                .collect(),
            expression: params.join(" && "),
        })
        .collect();
    let base = |schema: &Schema, t: &Ty| -> AllowedType {
        match t {
            Ty::Obj(m) => AllowedType::Object {
                namespace: schema.namespace_id(&format!("n{m}")).unwrap(),
            },
            Ty::Wild(m) => AllowedType::Wildcard {
                namespace: schema.namespace_id(&format!("n{m}")).unwrap(),
            },
            Ty::Set(m, q) => {
                let ns = schema.namespace_id(&format!("n{m}")).unwrap();
                AllowedType::SubjectSet {
                    namespace: ns,
                    relation: schema.relation_id(ns, q).unwrap(),
                }
            }
        }
    };
    for (i, members) in model.namespaces.iter().enumerate() {
        for (name, kind) in members {
            let Kind::Relation(types, _) = kind else {
                continue;
            };
            let ns = schema.namespace_id(&format!("n{i}")).unwrap();
            let r = schema.relation_id(ns, name).unwrap();
            let plain_types: Vec<AllowedType> = types
                .iter()
                .filter(|(_, tr)| tr.condition.is_none())
                .map(|(t, _)| base(&schema, t))
                .collect();
            let traited: Vec<TraitedType> = types
                .iter()
                .filter(|(_, tr)| *tr != Traits::default())
                .map(|(t, tr)| TraitedType {
                    base: base(&schema, t),
                    condition: tr.condition.map(|c| zanzi::ir::ConditionId(c as u32)),
                    expiration: tr.expiration,
                })
                .collect();
            let rel = &mut schema.relations[r.0 as usize];
            if let RelationKind::Relation {
                types, with_traits, ..
            } = &mut rel.kind
            {
                *types = plain_types;
                *with_traits = traited;
            }
        }
    }
    schema.hash = schema.content_hash();
    Some(Schema::from_json(&schema.to_json()).unwrap())
}
