//! Conflict reports in the style uv prints: pubgrub's derivation explained line by line
//! ("Because a ==1.0 depends on c <2 and b ==1.0 depends on c >=2, a ==1.0 and b ==1.0 are
//! incompatible."), with the root shown as "the requirements" and sets in specifier syntax.

use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
    VersionSet,
};

use std::collections::BTreeMap;

use pep508_rs::PackageName;

use super::Range;
use super::provider::{Package, Unavailable};

pub(super) type Tree = DerivationTree<Package, Range, Unavailable>;

/// Why a project has no usable version at all (its listing failed, every version is
/// yanked), added to each "there is no usable version of …" sentence about it.
pub(super) type Notes = BTreeMap<PackageName, String>;

/// The human report of a derivation tree.
pub(super) fn render(tree: &Tree, notes: &Notes) -> String {
    let formatter = Formatter { notes };
    match tree {
        // pubgrub's reporter prints a lone external fact without a conclusion.
        DerivationTree::External(external) => format!(
            "Because {}, the requirements cannot be satisfied together.",
            formatter.format_external(external)
        ),
        DerivationTree::Derived(_) => {
            DefaultStringReporter::report_with_formatter(tree, &formatter)
        }
    }
}

/// The "no versions" facts of a tree: the packages and sets pubgrub found no candidate in.
pub(super) fn no_versions(tree: &Tree) -> Vec<(&Package, &Range)> {
    match tree {
        DerivationTree::External(External::NoVersions(package, set)) => vec![(package, set)],
        DerivationTree::External(_) => Vec::new(),
        DerivationTree::Derived(derived) => {
            let mut found = no_versions(&derived.cause1);
            found.extend(no_versions(&derived.cause2));
            found
        }
    }
}

struct Formatter<'a> {
    notes: &'a Notes,
}

/// `p` at `set`: the root has no version worth showing, a full set none either.
fn at(package: &Package, set: &Range) -> String {
    if *package == Package::Root || *set == Range::full() {
        package.to_string()
    } else {
        format!("{package} {set}")
    }
}

/// A dependency edge; the root's edges are the requirement lines themselves.
fn depends(package: &Package, set: &Range, dep: &Package, dep_set: &Range) -> String {
    if *package == Package::Root {
        format!("the requirements ask for {}", at(dep, dep_set))
    } else {
        format!("{} depends on {}", at(package, set), at(dep, dep_set))
    }
}

fn term(package: &Package, term: &Term<Range>) -> String {
    match term {
        Term::Positive(set) => at(package, set),
        Term::Negative(set) => format!("{package} outside {set}"),
    }
}

impl ReportFormatter<Package, Range, Unavailable> for Formatter<'_> {
    type Output = String;

    fn format_external(&self, external: &External<Package, Range, Unavailable>) -> String {
        match external {
            External::NotRoot(_, _) => "we are solving the requirements".to_string(),
            External::NoVersions(package, set) => {
                let note = package
                    .name()
                    .and_then(|name| self.notes.get(name))
                    .map(|note| format!(" ({note})"))
                    .unwrap_or_default();
                if *set == Range::full() {
                    format!("there is no usable version of {package}{note}")
                } else {
                    format!("there is no usable version of {package} {set}{note}")
                }
            }
            External::Custom(package, set, why) => {
                format!("{} cannot be used {why}", at(package, set))
            }
            External::FromDependencyOf(package, set, dep, dep_set) => {
                depends(package, set, dep, dep_set)
            }
        }
    }

    fn format_terms(&self, terms: &Map<Package, Term<Range>>) -> String {
        let terms: Vec<_> = terms.iter().collect();
        match terms.as_slice() {
            [] | [(Package::Root, Term::Positive(_))] => {
                "the requirements cannot be satisfied together".to_string()
            }
            [(package, Term::Positive(set))] => format!("{} cannot be used", at(package, set)),
            [(package, Term::Negative(set))] => format!("{} is required", at(package, set)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => depends(p1, r1, p2, r2),
            many => {
                let parts: Vec<String> = many.iter().map(|(p, t)| term(p, t)).collect();
                format!("{} are incompatible", parts.join(" and "))
            }
        }
    }

    fn explain_both_external(
        &self,
        external1: &External<Package, Range, Unavailable>,
        external2: &External<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(external1),
            self.format_external(external2),
            self.format_terms(current_terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Package, Range, Unavailable>,
        ref_id2: usize,
        derived2: &Derived<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id1}) and {} ({ref_id2}), {}.",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(current_terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Package, Range, Unavailable>,
        external: &External<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "And because {} ({ref_id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Package, Range, Unavailable>,
        external: &External<Package, Range, Unavailable>,
        current_terms: &Map<Package, Term<Range>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior_external),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }
}
