//! A seeded, deterministic generator of the peer harness's "drive" data set
//! (`shared/bench/gen.py`), for the engine benchmarks.
//!
//! Same shape as gen.py, not the same bytes (a different random generator):
//! users N/10; groups N/200 in four nesting levels (10/20/30/40% of them;
//! a level-L group holds 1..=29 users and 0..=3 groups of level L+1, so no
//! cycles); folders N/35 in random-recursive trees of depth ≤ 8, each with
//! an owner (90%), 0..=2 editors and 0..=3 viewers (users, or groups' members);
//! then documents until N tuples, each with a parent folder (95%), an owner,
//! 0..=3 viewers and, for 5%, a banned user who would otherwise see it.
//!
//! The check workload has gen.py's mix: 40% random pairs (mostly denied),
//! 10% direct owner/viewer, 12% through a viewer group, 33% inherited from an
//! ancestor folder (the deep ones), 5% banned; 10% of the random, direct and
//! inherited ones ask `edit` instead of `view`.

#![allow(dead_code, reason = "each bench uses a part of the generator")]
#![allow(
    clippy::indexing_slicing,
    reason = "indices come from the generator's own ranges"
)]

use zanzi::tuple::{Object, Subject, Tuple};

/// The model, in zanzi's language (gen.py's `model.zanzi` without wildcards).
pub const SCHEMA: &str = "namespace user {}

namespace group {
  relation member: user | group#member
}

namespace folder {
  relation parent: folder
  relation owner:  user
  relation editor: user | group#member
  relation viewer: user | group#member

  permission edit = owner | editor | parent->edit
  permission view = edit | viewer | parent->view
}

namespace document {
  relation parent: folder
  relation owner:  user
  relation viewer: user | group#member
  relation banned: user

  permission edit = owner | parent->edit
  permission view = (owner | viewer | parent->view) - banned
}
";

const GROUP_LEVELS: usize = 4;
const MAX_FOLDER_DEPTH: usize = 8;

/// SplitMix64: small, fast, and the same sequence on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `k` distinct values of `lo..hi`, sorted.
    pub fn sample(&mut self, lo: usize, hi: usize, k: usize) -> Vec<usize> {
        let k = k.min(hi - lo);
        let mut out: Vec<usize> = Vec::with_capacity(k);
        while out.len() < k {
            let x = lo + self.below(hi - lo);
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out.sort_unstable();
        out
    }
}

/// A subject of a folder or document relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    User(usize),
    Group(usize),
}

/// A check of the workload and what the generator knows about it.
#[derive(Clone, Debug)]
pub struct Check {
    pub tuple: Tuple,
    pub category: &'static str,
    /// Rough number of hops from the document to the user (0 for random).
    pub hops: usize,
    /// How many folders are above the document (0: no parent).
    pub folder_depth: usize,
}

/// A generated data set.
#[derive(Debug)]
pub struct Dataset {
    pub tuples: Vec<Tuple>,
    pub checks: Vec<Check>,
    pub users: usize,
    pub groups: usize,
    pub folders: usize,
    pub documents: usize,
}

struct Gen {
    rng: Rng,
    n: usize,
    users: usize,
    groups: usize,
    folders: usize,
    tuples: Vec<Tuple>,
    group_users: Vec<Vec<usize>>,
    group_subs: Vec<Vec<usize>>,
    folder_parent: Vec<Option<usize>>,
    folder_depth: Vec<usize>,
    /// owner, editor, viewer
    folder_subjects: Vec<[Vec<Who>; 3]>,
    doc_parent: Vec<Option<usize>>,
    /// owner, viewer, banned
    doc_subjects: Vec<[Vec<Who>; 3]>,
}

fn who(w: Who) -> Subject {
    match w {
        Who::User(u) => Subject::object("user", format!("u{u}")),
        Who::Group(g) => Subject::set("group", format!("g{g}"), "member"),
    }
}

impl Gen {
    fn emit(&mut self, namespace: &str, id: String, relation: &str, subject: Subject) {
        self.tuples
            .push(Tuple::new(Object::new(namespace, id), relation, subject));
    }

    fn subject(&mut self, p_group: f64) -> Who {
        if self.rng.unit() < p_group {
            Who::Group(self.rng.below(self.groups))
        } else {
            Who::User(self.rng.below(self.users))
        }
    }

    fn make_groups(&mut self) {
        let mut bounds = vec![0];
        for frac in [0.1, 0.3, 0.6] {
            let last = *bounds.last().unwrap_or(&0);
            bounds.push((last + 1).max((self.groups as f64 * frac) as usize));
        }
        bounds.push(self.groups);
        for level in 0..GROUP_LEVELS {
            for g in bounds[level]..bounds[level + 1] {
                let k = self.rng.between(1, 29);
                let users = self.rng.sample(0, self.users, k);
                let subs = if level + 1 < GROUP_LEVELS {
                    let s = self.rng.pick(&[0, 1, 1, 2, 3]);
                    self.rng.sample(bounds[level + 1], bounds[level + 2], s)
                } else {
                    Vec::new()
                };
                for &u in &users {
                    self.emit("group", format!("g{g}"), "member", who(Who::User(u)));
                }
                for &s in &subs {
                    self.emit("group", format!("g{g}"), "member", who(Who::Group(s)));
                }
                self.group_users.push(users);
                self.group_subs.push(subs);
            }
        }
    }

    fn make_folders(&mut self) {
        let trees = (self.folders / 150).max(2);
        let mut candidates: Vec<Vec<usize>> = vec![Vec::new(); trees];
        for f in 0..self.folders {
            let (parent, depth, tree) = if f < trees {
                (None, 1, f)
            } else {
                let tree = self.rng.below(trees);
                let parent = self.rng.pick(&candidates[tree]);
                (Some(parent), self.folder_depth[parent] + 1, tree)
            };
            if depth < MAX_FOLDER_DEPTH {
                candidates[tree].push(f);
            }
            self.folder_parent.push(parent);
            self.folder_depth.push(depth);
            let mut subjects: [Vec<Who>; 3] = Default::default();
            if self.rng.unit() < 0.9 {
                subjects[0].push(Who::User(self.rng.below(self.users)));
            }
            for _ in 0..self.rng.pick(&[0, 0, 1, 1, 2]) {
                let s = self.subject(0.3);
                subjects[1].push(s);
            }
            for _ in 0..self.rng.pick(&[0, 1, 1, 2, 3]) {
                let s = self.subject(0.4);
                subjects[2].push(s);
            }
            for list in &mut subjects {
                dedup_keep_order(list);
            }
            if let Some(p) = parent {
                self.emit(
                    "folder",
                    format!("f{f}"),
                    "parent",
                    Subject::object("folder", format!("f{p}")),
                );
            }
            for (relation, list) in ["owner", "editor", "viewer"].iter().zip(&subjects) {
                for &w in list {
                    self.emit("folder", format!("f{f}"), relation, who(w));
                }
            }
            self.folder_subjects.push(subjects);
        }
    }

    fn make_documents(&mut self) {
        let mut d = 0;
        while self.tuples.len() < self.n {
            let parent = (self.rng.unit() < 0.95).then(|| self.rng.below(self.folders));
            let mut subjects: [Vec<Who>; 3] = Default::default();
            subjects[0].push(Who::User(self.rng.below(self.users)));
            for _ in 0..self.rng.pick(&[0, 1, 1, 2, 3]) {
                let s = self.subject(0.25);
                subjects[1].push(s);
            }
            dedup_keep_order(&mut subjects[1]);
            self.doc_parent.push(parent);
            if self.rng.unit() < 0.05 {
                // Ban someone who would otherwise have access, most of the time.
                let user = self
                    .walk_to_user(d, false)
                    .map_or_else(|| self.rng.below(self.users), |(u, _)| u);
                subjects[2].push(Who::User(user));
            }
            if let Some(p) = parent {
                self.emit(
                    "document",
                    format!("d{d}"),
                    "parent",
                    Subject::object("folder", format!("f{p}")),
                );
            }
            for (relation, list) in ["owner", "viewer", "banned"].iter().zip(&subjects) {
                for &w in list {
                    self.emit("document", format!("d{d}"), relation, who(w));
                }
            }
            self.doc_subjects.push(subjects);
            d += 1;
        }
    }

    /// A user below `w` by a random walk down the groups, and the group hops.
    fn descend(&mut self, mut w: Who) -> (usize, usize) {
        let mut hops = 0;
        loop {
            match w {
                Who::User(u) => return (u, hops),
                Who::Group(g) => {
                    hops += 1;
                    let (users, subs) = (&self.group_users[g], &self.group_subs[g]);
                    let i = self.rng.below(users.len() + subs.len());
                    w = if i < users.len() {
                        Who::User(users[i])
                    } else {
                        Who::Group(subs[i - users.len()])
                    };
                }
            }
        }
    }

    fn ancestors(&self, mut folder: Option<usize>) -> Vec<usize> {
        let mut out = Vec::new();
        while let Some(f) = folder {
            out.push(f);
            folder = self.folder_parent[f];
        }
        out
    }

    /// A user who reaches document `d` through an ancestor folder, and hops.
    fn walk_to_user(&mut self, d: usize, edit: bool) -> Option<(usize, usize)> {
        let chain = self.ancestors(self.doc_parent[d]);
        if chain.is_empty() {
            return None;
        }
        let relations: &[usize] = if edit { &[0, 1] } else { &[0, 1, 2] };
        let start = self.rng.below(chain.len());
        for (level, &folder) in chain.iter().enumerate().skip(start) {
            let pool: Vec<Who> = relations
                .iter()
                .flat_map(|&r| self.folder_subjects[folder][r].iter().copied())
                .collect();
            if !pool.is_empty() {
                let w = self.rng.pick(&pool);
                let (user, hops) = self.descend(w);
                return Some((user, level + 1 + hops));
            }
        }
        None
    }

    fn make_checks(&mut self, n: usize, edit_fraction: f64) -> Vec<Check> {
        const CATEGORIES: [(&str, f64); 5] = [
            ("random", 0.40),
            ("direct", 0.10),
            ("group", 0.12),
            ("inherited", 0.33),
            ("banned", 0.05),
        ];
        let documents = self.doc_parent.len();
        let banned: Vec<usize> = (0..documents)
            .filter(|&d| !self.doc_subjects[d][2].is_empty())
            .collect();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let r = self.rng.unit();
            let mut acc = 0.0;
            let mut category = "random";
            for (name, weight) in CATEGORIES {
                acc += weight;
                category = name;
                if r < acc {
                    break;
                }
            }
            let edit = matches!(category, "random" | "inherited" | "direct")
                && self.rng.unit() < edit_fraction;
            let mut user = None;
            let mut hops = 0;
            let mut d = 0;
            for _ in 0..20 {
                d = self.rng.below(documents);
                match category {
                    "direct" => {
                        let [owner, viewer, _] = &self.doc_subjects[d];
                        let pool: Vec<usize> = owner
                            .iter()
                            .chain(if edit { &[][..] } else { &viewer[..] })
                            .filter_map(|w| match w {
                                Who::User(u) => Some(*u),
                                Who::Group(_) => None,
                            })
                            .collect();
                        if !pool.is_empty() {
                            user = Some(self.rng.pick(&pool));
                        }
                    }
                    "group" => {
                        let pool: Vec<Who> = self.doc_subjects[d][1]
                            .iter()
                            .copied()
                            .filter(|w| matches!(w, Who::Group(_)))
                            .collect();
                        if !pool.is_empty() {
                            let w = self.rng.pick(&pool);
                            let (u, h) = self.descend(w);
                            user = Some(u);
                            hops = h;
                        }
                    }
                    "inherited" => {
                        if let Some((u, h)) = self.walk_to_user(d, edit) {
                            user = Some(u);
                            hops = h;
                        }
                    }
                    "banned" if !banned.is_empty() => {
                        d = self.rng.pick(&banned);
                        if let Some(Who::User(u)) = self.doc_subjects[d][2].first() {
                            user = Some(*u);
                        }
                    }
                    _ => {}
                }
                if user.is_some() || category == "random" {
                    break;
                }
            }
            let (category, user) = match user {
                Some(u) => (category, u),
                None => ("random", self.rng.below(self.users)),
            };
            let permission = if edit { "edit" } else { "view" };
            out.push(Check {
                tuple: Tuple::new(
                    Object::new("document", format!("d{d}")),
                    permission,
                    Subject::object("user", format!("u{user}")),
                ),
                category,
                hops,
                folder_depth: self.ancestors(self.doc_parent[d]).len(),
            });
        }
        out
    }
}

fn dedup_keep_order(list: &mut Vec<Who>) {
    let mut seen = Vec::with_capacity(list.len());
    list.retain(|w| {
        if seen.contains(w) {
            false
        } else {
            seen.push(*w);
            true
        }
    });
}

/// The drive data set with about `n` tuples and `checks` checks.
pub fn generate(n: usize, checks: usize, seed: u64) -> Dataset {
    let mut gen = Gen {
        rng: Rng::new(seed),
        n,
        users: (n / 10).max(50),
        groups: (n / 200).max(8),
        folders: (n / 35).max(16),
        tuples: Vec::with_capacity(n + 16),
        group_users: Vec::new(),
        group_subs: Vec::new(),
        folder_parent: Vec::new(),
        folder_depth: Vec::new(),
        folder_subjects: Vec::new(),
        doc_parent: Vec::new(),
        doc_subjects: Vec::new(),
    };
    gen.make_groups();
    gen.make_folders();
    gen.make_documents();
    let checks = gen.make_checks(checks, 0.1);
    Dataset {
        users: gen.users,
        groups: gen.groups,
        folders: gen.folders,
        documents: gen.doc_parent.len(),
        tuples: gen.tuples,
        checks,
    }
}

/// `documents` documents spread over a folder tree of `folders` folders
/// whose root `user:reader` can view through a group: every document is in
/// the set of `document:*#view` for that user, so a lookup of the user's
/// documents must confirm all of them. A few are banned for the reader.
pub fn wide(documents: usize, folders: usize, seed: u64) -> Vec<Tuple> {
    let mut rng = Rng::new(seed);
    let mut tuples = Vec::with_capacity(documents * 2 + folders * 2 + 4);
    let mut push = |ns: &str, id: String, rel: &str, subject: Subject| {
        tuples.push(Tuple::new(Object::new(ns, id), rel, subject));
    };
    push(
        "group",
        "readers".to_owned(),
        "member",
        Subject::object("user", "reader"),
    );
    push(
        "folder",
        "f0".to_owned(),
        "viewer",
        Subject::set("group", "readers", "member"),
    );
    for f in 1..folders {
        let parent = rng.below(f);
        push(
            "folder",
            format!("f{f}"),
            "parent",
            Subject::object("folder", format!("f{parent}")),
        );
        push(
            "folder",
            format!("f{f}"),
            "owner",
            Subject::object("user", format!("u{}", rng.below(1000))),
        );
    }
    for d in 0..documents {
        push(
            "document",
            format!("d{d}"),
            "parent",
            Subject::object("folder", format!("f{}", rng.below(folders))),
        );
        push(
            "document",
            format!("d{d}"),
            "owner",
            Subject::object("user", format!("u{}", rng.below(1000))),
        );
        if d % 100 == 0 {
            push(
                "document",
                format!("d{d}"),
                "banned",
                Subject::object("user", "reader"),
            );
        }
    }
    tuples
}

/// One document whose `view` reaches `users` users: a tenth as its direct
/// viewers, half through groups (a hundred, nested two deep, some named by
/// the document and some by folders), the rest as viewers and editors of a
/// chain of eight folders above it; every thousandth user is banned.
pub fn wide_subjects(users: usize) -> Vec<Tuple> {
    const FOLDERS: usize = 8;
    const GROUPS: usize = 100;
    const TOP_GROUPS: usize = 10;
    let mut tuples = Vec::with_capacity(users + GROUPS + FOLDERS + 4);
    let document = || Object::new("document", "shared");
    let folder = |f: usize| Object::new("folder", format!("f{f}"));
    tuples.push(Tuple::new(
        document(),
        "parent",
        Subject::object("folder", format!("f{}", FOLDERS - 1)),
    ));
    tuples.push(Tuple::new(
        document(),
        "owner",
        Subject::object("user", "u1"),
    ));
    for f in 1..FOLDERS {
        let parent = Subject::object("folder", format!("f{}", f - 1));
        tuples.push(Tuple::new(folder(f), "parent", parent));
    }
    for g in 0..GROUPS {
        let member = Subject::set("group", format!("g{g}"), "member");
        if g % TOP_GROUPS == 0 {
            // Some groups are the document's viewers directly.
            tuples.push(Tuple::new(document(), "viewer", member.clone()));
        }
        let top = Object::new("group", format!("top{}", g / TOP_GROUPS));
        tuples.push(Tuple::new(top, "member", member));
    }
    for t in 0..GROUPS / TOP_GROUPS {
        let member = Subject::set("group", format!("top{t}"), "member");
        tuples.push(Tuple::new(folder(t % FOLDERS), "viewer", member));
    }
    for i in 0..users {
        let user = Subject::object("user", format!("u{i}"));
        let tuple = match i % 10 {
            0 => Tuple::new(document(), "viewer", user.clone()),
            1..=5 => Tuple::new(
                Object::new("group", format!("g{}", (i / 10) % GROUPS)),
                "member",
                user.clone(),
            ),
            6..=8 => Tuple::new(folder((i / 10) % FOLDERS), "viewer", user.clone()),
            _ => Tuple::new(folder((i / 10) % FOLDERS), "editor", user.clone()),
        };
        tuples.push(tuple);
        if i % 1000 == 7 {
            tuples.push(Tuple::new(document(), "banned", user));
        }
    }
    tuples
}
