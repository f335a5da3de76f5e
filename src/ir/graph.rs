//! The dependency graph between relations, and the two cycle rules on it:
//! no cycle through computed names only (an infinite loop, E0301) and no
//! cycle through the right side of `-` (an unstratified schema, E0302).
//!
//! The edges themselves are built in one place, `ir::derived`; they are
//! generic over a label so analysis can attach source spans while IR loading
//! checks the same rules without them.

use std::collections::{HashMap, HashSet, VecDeque};

use super::RelationId;

/// `from` reads `to` when evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge<L> {
    pub from: RelationId,
    pub to: RelationId,
    pub kind: EdgeKind,
    /// Under the right side of a `-`.
    pub negative: bool,
    pub label: L,
}

impl<L> Edge<L> {
    /// No tuple is read between `from` and `to`.
    pub fn computed(&self) -> bool {
        self.kind.is_computed()
    }

    /// The same edge with another label.
    pub fn labelled<M>(self, label: M) -> Edge<M> {
        Edge {
            from: self.from,
            to: self.to,
            kind: self.kind,
            negative: self.negative,
            label,
        }
    }
}

/// How `from` reads `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// A name in a rewrite: `to` is another relation or permission of the same object.
    Computed,
    /// The left side of an arrow: `to` is read for its objects only.
    Tupleset,
    /// An arrow's target, reached through this tupleset relation.
    Arrow(RelationId),
    /// A subject-set type `ns#to` of a relation.
    SubjectSet,
}

impl EdgeKind {
    /// Whether `from` reaches `to` without reading a tuple in between.
    pub fn is_computed(self) -> bool {
        match self {
            EdgeKind::Computed | EdgeKind::Tupleset => true,
            EdgeKind::Arrow(_) | EdgeKind::SubjectSet => false,
        }
    }

    /// Whether the subjects in `to`'s set are in `from`'s set too (those of
    /// a positive edge; a tupleset is read for its objects only).
    pub fn passes_subjects(self) -> bool {
        match self {
            EdgeKind::Computed | EdgeKind::Arrow(_) | EdgeKind::SubjectSet => true,
            EdgeKind::Tupleset => false,
        }
    }
}

/// Strongly connected components (Tarjan, iterative: schemas may be large).
#[expect(
    clippy::indexing_slicing,
    reason = "every node index is below `nodes`: roots by the loop bound, successors by the check"
)]
fn components<L>(nodes: usize, edges: &[&Edge<L>]) -> Vec<usize> {
    let mut adjacency = vec![Vec::new(); nodes];
    for e in edges {
        if let Some(list) = adjacency.get_mut(e.from.0 as usize) {
            list.push(e.to.0 as usize);
        }
    }
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; nodes];
    let mut low = vec![0; nodes];
    let mut on_stack = vec![false; nodes];
    let mut component = vec![UNSEEN; nodes];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..nodes {
        if index.get(root) != Some(&UNSEEN) {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (node, ref mut child)) = work.last_mut() {
            if *child == 0 {
                index[node] = next_index;
                low[node] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            let succ = adjacency.get(node).and_then(|a| a.get(*child)).copied();
            *child += 1;
            if let Some(next) = succ {
                if next >= nodes {
                    continue;
                }
                if index[next] == UNSEEN {
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// The shortest path of edges from `start` to `goal` (distinct) inside one component.
fn path<'e, L>(
    edges: &[&'e Edge<L>],
    component: &[usize],
    start: RelationId,
    goal: RelationId,
) -> Vec<&'e Edge<L>> {
    let comp = component.get(start.0 as usize).copied();
    let mut came_by: HashMap<RelationId, &'e Edge<L>> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        if node == goal {
            break;
        }
        for e in edges.iter().filter(|e| e.from == node) {
            let inside = component.get(e.to.0 as usize).copied() == comp;
            if inside && e.to != start && !came_by.contains_key(&e.to) {
                came_by.insert(e.to, e);
                queue.push_back(e.to);
            }
        }
    }
    let mut chain = Vec::new();
    let mut at = goal;
    while let Some(e) = came_by.get(&at) {
        chain.push(*e);
        at = e.from;
    }
    chain.reverse();
    chain
}

/// One cycle per component whose relations reach themselves through computed
/// names alone, as a chain of edges that closes on its first node.
pub fn computed_cycles<L>(nodes: usize, edges: &[Edge<L>]) -> Vec<Vec<&Edge<L>>> {
    let computed: Vec<&Edge<L>> = edges.iter().filter(|e| e.computed()).collect();
    let component = components(nodes, &computed);
    let mut reported = HashSet::new();
    let mut cycles = Vec::new();
    for e in &computed {
        let comp = component.get(e.from.0 as usize).copied();
        let same = comp == component.get(e.to.0 as usize).copied();
        if same && reported.insert(comp) {
            let mut chain = vec![*e];
            if e.to != e.from {
                chain.extend(path(&computed, &component, e.to, e.from));
            }
            cycles.push(chain);
        }
    }
    cycles
}

/// One cycle per component that contains a negative edge.
pub fn negative_cycles<L>(nodes: usize, edges: &[Edge<L>]) -> Vec<Vec<&Edge<L>>> {
    let all: Vec<&Edge<L>> = edges.iter().collect();
    let component = components(nodes, &all);
    let mut reported = HashSet::new();
    let mut cycles = Vec::new();
    for e in all.iter().filter(|e| e.negative) {
        let comp = component.get(e.from.0 as usize).copied();
        let same = comp == component.get(e.to.0 as usize).copied();
        if same && reported.insert(comp) {
            let mut chain = vec![*e];
            if e.to != e.from {
                chain.extend(path(&all, &component, e.to, e.from));
            }
            cycles.push(chain);
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: u32, to: u32, computed: bool, negative: bool) -> Edge<()> {
        Edge {
            from: RelationId(from),
            to: RelationId(to),
            kind: if computed {
                EdgeKind::Computed
            } else {
                EdgeKind::SubjectSet
            },
            negative,
            label: (),
        }
    }

    fn ids(chain: &[&Edge<()>]) -> Vec<(u32, u32)> {
        chain.iter().map(|e| (e.from.0, e.to.0)).collect()
    }

    #[test]
    fn finds_a_computed_cycle_as_a_closed_chain() {
        let edges = vec![
            edge(0, 1, true, false),
            edge(1, 2, true, false),
            edge(2, 0, true, false),
        ];
        let cycles = computed_cycles(3, &edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(ids(&cycles[0]), vec![(0, 1), (1, 2), (2, 0)]);
    }

    #[test]
    fn a_tuple_in_between_breaks_a_computed_cycle() {
        let edges = vec![edge(0, 1, true, false), edge(1, 0, false, false)];
        assert!(computed_cycles(2, &edges).is_empty());
        assert!(negative_cycles(2, &edges).is_empty());
    }

    #[test]
    fn negation_through_recursion_is_found() {
        let edges = vec![
            edge(0, 1, false, true),
            edge(1, 0, false, false),
            edge(2, 0, true, true),
        ];
        let cycles = negative_cycles(3, &edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(ids(&cycles[0]), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn self_loops_are_cycles() {
        let edges = vec![edge(0, 0, true, true)];
        assert_eq!(computed_cycles(1, &edges).len(), 1);
        assert_eq!(negative_cycles(1, &edges).len(), 1);
    }
}
