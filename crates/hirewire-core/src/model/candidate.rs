//! Candidates: identity at the top level, the CV's structured data under `profile` (JSON Resume
//! shape), and the provenance of every field, so that automation (CV parsing, imports, sync)
//! never overwrites what a recruiter typed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub use hirewire_profile::{
    Basics, Education, Language, Location, Profile, Skill as ProfileSkill, SocialProfile, Work,
};

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::model::job::{check_email, clean_text, nullable};
use crate::page::{Cursor, PageRequest, SortValue};

const MAX_NAME: usize = 200;
const MAX_SHORT: usize = 200;
const MAX_TAGS: usize = 50;
const MAX_EXTERNAL_IDS: usize = 20;
const MAX_PROFILE_BYTES: usize = 512 * 1024;
const MAX_ENTRIES: usize = 200;

string_enum! {
    /// Who set a field's current value.
    Provenance { Parsed => "parsed", Api => "api", Recruiter => "recruiter", Integration => "integration" }
}

impl Provenance {
    /// A call attributed to a person (`X-ATS-User-ID`) is a recruiter's edit; any other API
    /// call is a client's.
    pub fn of(actor: &Actor) -> Self {
        if actor.user_id.is_some() {
            Self::Recruiter
        } else {
            Self::Api
        }
    }

    /// Whether a value set by `self` may replace a value set by `current`. Only recruiters
    /// overwrite recruiters; the parser only fills what is empty or was parsed before.
    pub fn may_overwrite(self, current: Option<Provenance>) -> bool {
        match (self, current) {
            (_, None) => true,
            (Self::Recruiter, _) => true,
            (_, Some(Self::Recruiter)) => false,
            (Self::Parsed, Some(c)) => c == Self::Parsed,
            (Self::Api | Self::Integration, _) => true,
        }
    }
}

/// An id of the candidate in another system.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalId {
    /// The other system, e.g. `bullhorn`, `linkedin`, `greenhouse`.
    #[schema(min_length = 1, max_length = 100)]
    pub source: String,
    #[schema(min_length = 1, max_length = 200)]
    pub id: String,
}

/// A candidate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Candidate {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_ids: Vec<ExternalId>,
    pub tags: Vec<String>,
    /// Where the candidate came from: `linkedin`, `referral`, `job_board`, …
    pub source: Option<String>,
    pub profile: Profile,
    /// Who set each field, keyed by its path (`email`, `profile.work`, `profile.basics.name`).
    #[schema(value_type = BTreeMap<String, Provenance>)]
    pub provenance: BTreeMap<String, Provenance>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/candidates`: at least one identity field (`first_name`,
/// `last_name`, `email`, `phone`, `external_ids`, `tags`) or a profile naming the person.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCandidate {
    #[serde(default)]
    #[schema(max_length = 200)]
    pub first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub external_ids: Vec<ExternalId>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub source: Option<String>,
    #[serde(default)]
    pub profile: Option<Profile>,
}

/// The body of `PATCH /api/v1/candidates/{id}`: any subset of the fields; `null` clears one.
/// `profile` is a JSON merge patch (RFC 7396) of the profile: `{"profile": {"basics":
/// {"label": "CTO"}}}` changes the label alone; an array (`work`, `skills`) is replaced whole.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidatePatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 40)]
    pub phone: Option<Option<String>>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub external_ids: Option<Vec<ExternalId>>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub source: Option<Option<String>>,
    /// A JSON merge patch of the profile.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub profile: Option<Value>,
    /// The revision the change is based on; an alternative to `If-Match`.
    #[serde(default)]
    pub revision: Option<i64>,
}

/// The fields whose provenance is tracked, in the order they are documented. Profile sections
/// are tracked whole (`profile.work`), `basics` field by field.
pub const TRACKED_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone",
    "external_ids",
    "tags",
    "source",
    "profile.basics.name",
    "profile.basics.label",
    "profile.basics.email",
    "profile.basics.phone",
    "profile.basics.url",
    "profile.basics.summary",
    "profile.basics.location",
    "profile.basics.profiles",
    "profile.work",
    "profile.education",
    "profile.skills",
    "profile.languages",
    "profile.total_experience_years",
];

/// Sort orders for listing candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CandidateSortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    Name,
}

impl CandidateSortField {
    /// Parses `created_at`, `-updated_at`, `name`… into a field and a direction.
    pub fn parse(s: &str) -> Option<(Self, bool)> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "created_at" => Self::CreatedAt,
            "updated_at" => Self::UpdatedAt,
            "name" => Self::Name,
            _ => return None,
        };
        Some((field, desc))
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Name => "name",
        }
    }

    /// The column that holds the sort key.
    pub fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::Name => "name_key",
        }
    }
}

/// Filters and order for listing candidates. Text filters are already normalised the way the
/// stored keys are (see [`Candidate::keys`]).
#[derive(Debug, Clone, Default)]
pub struct CandidateQuery {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<ExternalId>,
    /// A prefix of the first name, last name or full name, folded.
    pub name_prefix: Option<String>,
    /// Every one of these skills (normalised keys).
    pub skills: Vec<String>,
    /// A city, region or country code, folded.
    pub location: Option<String>,
    pub source: Option<String>,
    pub tag: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: CandidateSortField,
    pub descending: bool,
    pub page: PageRequest,
}

impl CandidateQuery {
    /// The cursor that resumes this query's order after `c`.
    pub fn cursor_of(&self, c: &Candidate) -> Cursor {
        let value = match self.sort {
            CandidateSortField::CreatedAt => SortValue::Time(c.created_at),
            CandidateSortField::UpdatedAt => SortValue::Time(c.updated_at),
            CandidateSortField::Name => SortValue::Text(name_key(c)),
        };
        Cursor {
            sort: format!(
                "{}{}",
                if self.descending { "-" } else { "" },
                self.sort.as_str()
            ),
            value,
            id: c.id.clone(),
        }
    }
}

/// The normalised values the store indexes for lookups and filters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CandidateKeys {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: String,
    /// `|city|region|country code|`, folded, for whole-component matching.
    pub location: Option<String>,
    pub skills: Vec<String>,
    pub tags: Vec<String>,
    /// The candidate's record as search tokens.
    pub search: crate::model::search::SearchText,
}

/// Folds text for case-insensitive matching.
pub fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The key an email is matched on.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The key a phone number is matched on: its last nine digits. National and international
/// spellings of one number (`07700 900123`, `+44 7700 900123`) share them, and nine digits
/// keep accidental matches within one tenant negligible. `None` under five digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(9)..].to_string())
}

/// The key a skill is matched on: the taxonomy's canonical name when it knows the skill, so
/// that `k8s` and `Kubernetes` are one key; folded.
pub fn skill_key(name: &str) -> String {
    fold(&crate::model::search::canonical_skill(name))
}

fn name_key(c: &Candidate) -> String {
    let full = match (&c.first_name, &c.last_name) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(n), None) | (None, Some(n)) => n.clone(),
        (None, None) => c.profile.basics.name.clone().unwrap_or_default(),
    };
    fold(&full)
}

impl Candidate {
    /// The normalised values the store indexes.
    pub fn keys(&self) -> CandidateKeys {
        let location = self.profile.basics.location.as_ref().map(|l| {
            let parts = [&l.city, &l.region, &l.country_code];
            let inner: Vec<String> = parts
                .iter()
                .map(|p| p.as_deref().map(fold).unwrap_or_default())
                .collect();
            format!("|{}|", inner.join("|"))
        });
        let mut skills: Vec<String> = self
            .profile
            .skills
            .iter()
            .map(|s| skill_key(&s.name))
            .filter(|k| !k.is_empty())
            .collect();
        skills.sort();
        skills.dedup();
        let mut tags: Vec<String> = self.tags.iter().map(|t| fold(t)).collect();
        tags.sort();
        tags.dedup();
        CandidateKeys {
            email: self.email.as_deref().map(email_key),
            phone: self.phone.as_deref().and_then(phone_key),
            name: name_key(self),
            location,
            skills,
            tags,
            search: crate::model::search::search_text(self),
        }
    }

    /// A candidate with nothing known yet, for one created from a CV alone: parsing fills it.
    pub fn awaiting_cv(id: String, now: DateTime<Utc>) -> Self {
        Candidate {
            id,
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            external_ids: vec![],
            tags: vec![],
            source: None,
            profile: Profile::default(),
            provenance: BTreeMap::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// A new candidate from a create request, validated; every field given is attributed to
    /// `provenance`.
    pub fn new(
        id: String,
        input: NewCandidate,
        provenance: Provenance,
        now: DateTime<Utc>,
    ) -> DomainResult<Self> {
        let mut c = Candidate::awaiting_cv(id, now);
        let has_identity = input.first_name.is_some()
            || input.last_name.is_some()
            || input.email.is_some()
            || input.phone.is_some()
            || !input.external_ids.is_empty()
            || !input.tags.is_empty();
        let profile_names_someone = input.profile.as_ref().is_some_and(|p| {
            p.basics.name.is_some() || p.basics.email.is_some() || p.basics.phone.is_some()
        });
        if !has_identity && !profile_names_someone {
            return Err(DomainError::invalid(
                "first_name",
                "a candidate needs at least one of `first_name`, `last_name`, `email`, `phone`, `external_ids`, `tags`, or a `profile` whose `basics` names the person",
            ));
        }
        let before = c.clone();
        c.first_name = clean_text("first_name", input.first_name, MAX_NAME)?;
        c.last_name = clean_text("last_name", input.last_name, MAX_NAME)?;
        c.email = clean_email(input.email)?;
        c.phone = clean_phone(input.phone)?;
        c.external_ids = clean_external_ids(input.external_ids)?;
        c.tags = clean_tags(input.tags)?;
        c.source = clean_text("source", input.source, 100)?;
        if let Some(p) = input.profile {
            c.profile = clean_profile(p)?;
        }
        c.fill_identity_from_profile();
        for field in changed_fields(&before, &c) {
            c.provenance.insert(field.to_string(), provenance);
        }
        Ok(c)
    }

    /// Top-level identity fields left empty take their values from `profile.basics`, so that
    /// a candidate created from a CV or a JSON Resume can be found by name, email and phone.
    fn fill_identity_from_profile(&mut self) {
        let b = &self.profile.basics;
        if self.first_name.is_none()
            && self.last_name.is_none()
            && let Some(name) = b.name.as_deref()
        {
            let (first, last) = split_name(name);
            self.first_name = first;
            self.last_name = last;
        }
        if self.email.is_none()
            && let Some(e) = b.email.as_deref()
            && check_email("email", e).is_ok()
        {
            self.email = Some(e.trim().to_string());
        }
        if self.phone.is_none()
            && let Some(p) = b.phone.as_deref()
            && phone_key(p).is_some()
        {
            self.phone = Some(p.trim().to_string());
        }
    }

    /// The candidate after a patch by `provenance`, and the fields that changed. A patch
    /// overwrites whatever it names: it is an explicit instruction.
    pub fn patched(
        &self,
        patch: CandidatePatch,
        provenance: Provenance,
        now: DateTime<Utc>,
    ) -> DomainResult<(Candidate, Vec<&'static str>)> {
        let mut next = self.clone();
        if let Some(v) = patch.first_name {
            next.first_name = clean_text("first_name", v, MAX_NAME)?;
        }
        if let Some(v) = patch.last_name {
            next.last_name = clean_text("last_name", v, MAX_NAME)?;
        }
        if let Some(v) = patch.email {
            next.email = clean_email(v)?;
        }
        if let Some(v) = patch.phone {
            next.phone = clean_phone(v)?;
        }
        if let Some(v) = patch.external_ids {
            next.external_ids = clean_external_ids(v)?;
        }
        if let Some(v) = patch.tags {
            next.tags = clean_tags(v)?;
        }
        if let Some(v) = patch.source {
            next.source = clean_text("source", v, 100)?;
        }
        if let Some(merge) = patch.profile {
            if !merge.is_object() {
                return Err(DomainError::invalid(
                    "profile",
                    "`profile` must be an object (a JSON merge patch of the profile)",
                ));
            }
            let mut current = serde_json::to_value(&self.profile)
                .map_err(|e| DomainError::invalid("profile", e.to_string()))?;
            merge_patch(&mut current, &merge);
            let profile: Profile = serde_json::from_value(current).map_err(|e| {
                DomainError::invalid("profile", format!("`profile` after the patch: {e}"))
            })?;
            next.profile = clean_profile(profile)?;
        }
        let changed = changed_fields(self, &next);
        if !changed.is_empty() {
            for f in &changed {
                next.provenance.insert((*f).to_string(), provenance);
            }
            next.revision += 1;
            next.updated_at = now;
        }
        Ok((next, changed))
    }

    /// The candidate after an upsert that found it: the fields the request gives replace
    /// the stored ones unless a recruiter set them and the caller is not one; tags and
    /// external ids are added to the stored ones.
    pub fn upserted(
        &self,
        input: NewCandidate,
        provenance: Provenance,
        now: DateTime<Utc>,
    ) -> DomainResult<(Candidate, Vec<&'static str>)> {
        let incoming = Candidate::new(self.id.clone(), input, provenance, now)?;
        let mut merged = self.clone();
        let mut tags = self.tags.clone();
        for t in &incoming.tags {
            if !tags.iter().any(|x| fold(x) == fold(t)) {
                tags.push(t.clone());
            }
        }
        let mut ids = self.external_ids.clone();
        for x in &incoming.external_ids {
            match ids.iter_mut().find(|o| o.source == x.source) {
                Some(same_source) => *same_source = x.clone(),
                None => ids.push(x.clone()),
            }
        }
        let given: Vec<&'static str> = incoming
            .provenance
            .keys()
            .filter_map(|k| tracked(k))
            .filter(|k| !matches!(*k, "tags" | "external_ids"))
            .collect();
        merge_fields(&mut merged, &incoming, &given, provenance);
        // Adding a tag or an id loses nothing, so it needs no right to overwrite.
        let tags = clean_tags(tags)?;
        let ids = clean_external_ids(ids)?;
        if tags != merged.tags {
            merged.tags = tags;
            merged.provenance.insert("tags".into(), provenance);
        }
        if ids != merged.external_ids {
            merged.external_ids = ids;
            merged.provenance.insert("external_ids".into(), provenance);
        }
        let changed = changed_fields(self, &merged);
        if !changed.is_empty() {
            merged.revision += 1;
            merged.updated_at = now;
        }
        Ok((merged, changed))
    }

    /// The candidate once a parsed CV is merged in: the parser fills empty fields and
    /// replaces what it parsed before, never what a person or an integration set.
    pub fn with_parsed(
        &self,
        parsed: &Profile,
        now: DateTime<Utc>,
    ) -> (Candidate, Vec<&'static str>) {
        let mut source = self.clone();
        source.profile = parsed.clone();
        source.first_name = None;
        source.last_name = None;
        source.email = None;
        source.phone = None;
        source.fill_identity_from_profile();
        let source_profile = profile_value(&source);
        let offered: Vec<&'static str> = TRACKED_FIELDS
            .iter()
            .copied()
            .filter(|f| !matches!(*f, "external_ids" | "tags" | "source"))
            .filter(|f| !is_empty(&field_value_in(&source, &source_profile, f)))
            .collect();
        let mut next = self.clone();
        merge_fields(&mut next, &source, &offered, Provenance::Parsed);
        let changed = changed_fields(self, &next);
        if !changed.is_empty() {
            next.revision += 1;
            next.updated_at = now;
        }
        (next, changed)
    }
}

fn tracked(field: &str) -> Option<&'static str> {
    TRACKED_FIELDS.iter().copied().find(|f| *f == field)
}

/// Copies each of `fields` from `from` into `into` where `provenance` may overwrite it.
fn merge_fields(
    into: &mut Candidate,
    from: &Candidate,
    fields: &[&'static str],
    provenance: Provenance,
) {
    let mut profile = serde_json::to_value(&into.profile).unwrap_or(Value::Null);
    let source_profile = serde_json::to_value(&from.profile).unwrap_or(Value::Null);
    for field in fields {
        let current = into.provenance.get(*field).copied();
        if !provenance.may_overwrite(current) {
            continue;
        }
        if let Some(path) = field.strip_prefix("profile.") {
            let pointer = format!("/{}", path.replace('.', "/"));
            let value = source_profile
                .pointer(&pointer)
                .cloned()
                .unwrap_or(Value::Null);
            set_pointer(&mut profile, &pointer, value);
        } else {
            copy_top_field(into, from, field);
        }
        into.provenance.insert((*field).to_string(), provenance);
    }
    if let Ok(p) = serde_json::from_value(profile) {
        into.profile = p;
    }
    // A field this merge emptied has no author any more; fields a person cleared keep theirs,
    // so that automation does not refill them.
    let snapshot = into.clone();
    let snapshot_profile = profile_value(&snapshot);
    into.provenance.retain(|k, p| {
        *p != provenance
            || !fields.contains(&k.as_str())
            || !is_empty(&field_value_in(&snapshot, &snapshot_profile, k))
    });
}

fn copy_top_field(into: &mut Candidate, from: &Candidate, field: &str) {
    match field {
        "first_name" => into.first_name = from.first_name.clone(),
        "last_name" => into.last_name = from.last_name.clone(),
        "email" => into.email = from.email.clone(),
        "phone" => into.phone = from.phone.clone(),
        "external_ids" => into.external_ids = from.external_ids.clone(),
        "tags" => into.tags = from.tags.clone(),
        "source" => into.source = from.source.clone(),
        _ => {}
    }
}

/// The value of a tracked field, as JSON.
pub fn field_value(c: &Candidate, field: &str) -> Value {
    field_value_in(c, &profile_value(c), field)
}

fn profile_value(c: &Candidate) -> Value {
    serde_json::to_value(&c.profile).unwrap_or(Value::Null)
}

/// [`field_value`] with the profile already serialized: comparing all tracked fields of two
/// versions would otherwise serialize each profile once per field.
fn field_value_in(c: &Candidate, profile: &Value, field: &str) -> Value {
    match field {
        "first_name" => json_opt(&c.first_name),
        "last_name" => json_opt(&c.last_name),
        "email" => json_opt(&c.email),
        "phone" => json_opt(&c.phone),
        "external_ids" => serde_json::to_value(&c.external_ids).unwrap_or(Value::Null),
        "tags" => serde_json::to_value(&c.tags).unwrap_or(Value::Null),
        "source" => json_opt(&c.source),
        other => match other.strip_prefix("profile.") {
            Some(path) => profile
                .pointer(&format!("/{}", path.replace('.', "/")))
                .cloned()
                .unwrap_or(Value::Null),
            None => Value::Null,
        },
    }
}

fn json_opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The tracked fields whose values differ between two versions of a candidate.
pub fn changed_fields(before: &Candidate, after: &Candidate) -> Vec<&'static str> {
    let (b, a) = (profile_value(before), profile_value(after));
    TRACKED_FIELDS
        .iter()
        .copied()
        .filter(|f| field_value_in(before, &b, f) != field_value_in(after, &a, f))
        .collect()
}

fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let mut node = root;
    for (i, part) in parts.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        if i + 1 == parts.len() {
            if value.is_null() {
                map.remove(*part);
            } else {
                map.insert((*part).to_string(), value);
            }
            return;
        }
        node = map
            .entry((*part).to_string())
            .or_insert(Value::Object(Map::new()));
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (k, v) in patch_map {
        if v.is_null() {
            target_map.remove(k);
        } else {
            merge_patch(target_map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Splits a full name into first and last names: the last word is the family name, except
/// that particles (`van der`, `de la`, `von`) stay with it.
pub fn split_name(full: &str) -> (Option<String>, Option<String>) {
    const PARTICLES: &[&str] = &[
        "van", "von", "der", "den", "de", "del", "della", "la", "le", "da", "dos", "das", "du",
        "di", "ter", "ten", "bin", "al",
    ];
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.len() {
        0 => (None, None),
        1 => (Some(words[0].to_string()), None),
        n => {
            let mut split = n - 1;
            while split > 1 && PARTICLES.contains(&words[split - 1].to_lowercase().as_str()) {
                split -= 1;
            }
            (
                Some(words[..split].join(" ")),
                Some(words[split..].join(" ")),
            )
        }
    }
}

fn clean_email(v: Option<String>) -> DomainResult<Option<String>> {
    let v = clean_text("email", v, MAX_SHORT)?;
    if let Some(e) = &v {
        check_email("email", e)?;
    }
    Ok(v)
}

fn clean_phone(v: Option<String>) -> DomainResult<Option<String>> {
    let v = clean_text("phone", v, 40)?;
    if let Some(p) = &v {
        let allowed = p
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().\u{a0}/".contains(c) || c == 'x');
        if !allowed || phone_key(p).is_none() {
            return Err(DomainError::invalid(
                "phone",
                "`phone` must be a phone number: digits, spaces, `+`, `-`, `(`, `)`, `.` and `/`, with at least 5 digits",
            ));
        }
    }
    Ok(v)
}

fn clean_tags(tags: Vec<String>) -> DomainResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(DomainError::invalid(
            "tags",
            format!("a candidate has at most {MAX_TAGS} tags"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, t) in tags.into_iter().enumerate() {
        let field = format!("tags[{i}]");
        let t = clean_text(&field, Some(t), 100)?
            .ok_or_else(|| DomainError::invalid(&field, format!("`{field}` must not be empty")))?;
        if !out.iter().any(|x| fold(x) == fold(&t)) {
            out.push(t);
        }
    }
    Ok(out)
}

fn clean_external_ids(ids: Vec<ExternalId>) -> DomainResult<Vec<ExternalId>> {
    if ids.len() > MAX_EXTERNAL_IDS {
        return Err(DomainError::invalid(
            "external_ids",
            format!("a candidate has at most {MAX_EXTERNAL_IDS} external ids"),
        ));
    }
    let mut out: Vec<ExternalId> = Vec::with_capacity(ids.len());
    for (i, x) in ids.into_iter().enumerate() {
        let source = clean_text(&format!("external_ids[{i}].source"), Some(x.source), 100)?
            .ok_or_else(|| {
                DomainError::invalid(
                    format!("external_ids[{i}].source"),
                    format!("`external_ids[{i}].source` must not be empty"),
                )
            })?
            .to_lowercase();
        let id =
            clean_text(&format!("external_ids[{i}].id"), Some(x.id), 200)?.ok_or_else(|| {
                DomainError::invalid(
                    format!("external_ids[{i}].id"),
                    format!("`external_ids[{i}].id` must not be empty"),
                )
            })?;
        if out.iter().any(|o| o.source == source) {
            return Err(DomainError::invalid(
                format!("external_ids[{i}].source"),
                format!("a candidate has one id per source; `{source}` is given twice"),
            ));
        }
        out.push(ExternalId { source, id });
    }
    Ok(out)
}

/// The path of the first string in `v` with a control character other than a line break or
/// a tab (neither database stores NUL, and none belongs in a profile).
fn control_character_at(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) => s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            .then(|| path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_character_at(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, x)| control_character_at(x, &format!("{path}.{k}"))),
        _ => None,
    }
}

/// Removes control characters other than line breaks and tabs from every string of a
/// profile, for text that comes from files rather than from a client.
pub fn without_control_characters(p: &Profile) -> Profile {
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => {
                s.retain(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    walk(&mut v);
    serde_json::from_value(v).unwrap_or_else(|_| p.clone())
}

fn clean_profile(p: Profile) -> DomainResult<Profile> {
    let value = serde_json::to_value(&p).unwrap_or(Value::Null);
    if let Some(path) = control_character_at(&value, "profile") {
        return Err(DomainError::invalid(
            path.clone(),
            format!("`{path}` contains control characters"),
        ));
    }
    let size = serde_json::to_vec(&p).map(|v| v.len()).unwrap_or(0);
    if size > MAX_PROFILE_BYTES {
        return Err(DomainError::invalid(
            "profile",
            format!("`profile` is larger than {} KiB", MAX_PROFILE_BYTES / 1024),
        ));
    }
    for (name, len) in [
        ("profile.work", p.work.len()),
        ("profile.education", p.education.len()),
        ("profile.skills", p.skills.len()),
        ("profile.languages", p.languages.len()),
    ] {
        if len > MAX_ENTRIES {
            return Err(DomainError::invalid(
                name,
                format!("`{name}` has more than {MAX_ENTRIES} entries"),
            ));
        }
    }
    if let Some(y) = p.total_experience_years
        && (!y.is_finite() || !(0.0..=80.0).contains(&y))
    {
        return Err(DomainError::invalid(
            "profile.total_experience_years",
            "`profile.total_experience_years` must be between 0 and 80",
        ));
    }
    if let Some(e) = &p.basics.email
        && !e.trim().is_empty()
    {
        check_email("profile.basics.email", e.trim())?;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(json: &str, prov: Provenance) -> DomainResult<Candidate> {
        let input: NewCandidate = serde_json::from_str(json).unwrap();
        Candidate::new("cand_x".into(), input, prov, crate::time::now())
    }

    #[test]
    fn a_candidate_needs_an_identity() {
        assert!(new("{}", Provenance::Api).is_err());
        assert!(new(r#"{"tags":["x"]}"#, Provenance::Api).is_ok());
        let c = new(
            r#"{"profile":{"basics":{"name":"Ana Conceição"}}}"#,
            Provenance::Api,
        )
        .unwrap();
        assert_eq!(c.first_name.as_deref(), Some("Ana"));
        assert_eq!(c.last_name.as_deref(), Some("Conceição"));
    }

    #[test]
    fn names_split_keeping_particles() {
        assert_eq!(
            split_name("Jan van der Berg"),
            (Some("Jan".into()), Some("van der Berg".into()))
        );
        assert_eq!(
            split_name("María de la Cruz"),
            (Some("María".into()), Some("de la Cruz".into()))
        );
        assert_eq!(split_name("Prince"), (Some("Prince".into()), None));
    }

    #[test]
    fn phones_match_on_their_last_nine_digits() {
        assert_eq!(phone_key("+44 7700 900123"), phone_key("07700 900123"));
        assert_eq!(phone_key("(555) 010-1234"), phone_key("+1 555 010 1234"));
        assert_eq!(phone_key("12"), None);
    }

    #[test]
    fn provenance_is_recorded_and_respected_by_the_parser() {
        let c = new(
            r#"{"email":"a@example.com","profile":{"basics":{"label":"Nurse"}}}"#,
            Provenance::Recruiter,
        )
        .unwrap();
        assert_eq!(c.provenance.get("email"), Some(&Provenance::Recruiter));
        assert_eq!(
            c.provenance.get("profile.basics.label"),
            Some(&Provenance::Recruiter)
        );
        let parsed: Profile = serde_json::from_str(
            r#"{"basics":{"name":"Zoë Walsh","label":"Ward Manager","email":"z@example.org"},"skills":[{"name":"Triage"}]}"#,
        )
        .unwrap();
        let (next, changed) = c.with_parsed(&parsed, crate::time::now());
        assert_eq!(next.email.as_deref(), Some("a@example.com"));
        assert_eq!(next.profile.basics.label.as_deref(), Some("Nurse"));
        assert_eq!(next.first_name.as_deref(), Some("Zoë"));
        assert_eq!(next.profile.skills.len(), 1);
        assert_eq!(
            next.provenance.get("profile.skills"),
            Some(&Provenance::Parsed)
        );
        assert!(changed.contains(&"profile.skills"));
        assert!(!changed.contains(&"email"));
        // A field a recruiter cleared stays clear.
        let cleared: CandidatePatch =
            serde_json::from_str(r#"{"profile":{"basics":{"label":null}}}"#).unwrap();
        let (blank, _) = next
            .patched(cleared, Provenance::Recruiter, crate::time::now())
            .unwrap();
        let (reparsed, _) = blank.with_parsed(&parsed, crate::time::now());
        assert_eq!(reparsed.profile.basics.label, None);
        // A second parse replaces what the first one parsed.
        let again: Profile = serde_json::from_str(r#"{"skills":[{"name":"Rust"}]}"#).unwrap();
        let (third, _) = next.with_parsed(&again, crate::time::now());
        assert_eq!(third.profile.skills[0].name, "Rust");
    }

    #[test]
    fn patch_merges_the_profile_and_counts_changes() {
        let c = new(
            r#"{"first_name":"Ana","profile":{"basics":{"label":"Dev","summary":"Hi"}}}"#,
            Provenance::Api,
        )
        .unwrap();
        let patch: CandidatePatch =
            serde_json::from_str(r#"{"profile":{"basics":{"label":"CTO","summary":null}}}"#)
                .unwrap();
        let (next, changed) = c
            .patched(patch, Provenance::Recruiter, crate::time::now())
            .unwrap();
        assert_eq!(next.profile.basics.label.as_deref(), Some("CTO"));
        assert_eq!(next.profile.basics.summary, None);
        assert_eq!(
            changed,
            vec!["profile.basics.label", "profile.basics.summary"]
        );
        assert_eq!(next.revision, 2);
        assert_eq!(
            next.provenance.get("profile.basics.label"),
            Some(&Provenance::Recruiter)
        );
        let bad: CandidatePatch =
            serde_json::from_str(r#"{"profile":{"basics":{"nickname":"x"}}}"#).unwrap();
        assert!(c.patched(bad, Provenance::Api, crate::time::now()).is_err());
    }

    #[test]
    fn upsert_adds_tags_and_spares_recruiter_fields() {
        let c = new(
            r#"{"first_name":"Ana","email":"a@example.com","tags":["java"]}"#,
            Provenance::Recruiter,
        )
        .unwrap();
        let input: NewCandidate = serde_json::from_str(
            r#"{"first_name":"Anna","phone":"+44 7700 900123","tags":["rust"]}"#,
        )
        .unwrap();
        let (next, changed) = c
            .upserted(input, Provenance::Api, crate::time::now())
            .unwrap();
        assert_eq!(next.first_name.as_deref(), Some("Ana"));
        assert_eq!(next.phone.as_deref(), Some("+44 7700 900123"));
        assert_eq!(next.tags, vec!["java", "rust"]);
        assert!(changed.contains(&"tags") && changed.contains(&"phone"));
    }

    #[test]
    fn bad_input_names_its_field() {
        let err = new(r#"{"email":"nope"}"#, Provenance::Api).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field: Some(f), .. } if f == "email"));
        let err = new(r#"{"phone":"call me"}"#, Provenance::Api).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field: Some(f), .. } if f == "phone"));
        let err = new(
            r#"{"external_ids":[{"source":"a","id":"1"},{"source":"A","id":"2"}]}"#,
            Provenance::Api,
        )
        .unwrap_err();
        assert!(matches!(err, DomainError::Invalid { .. }));
    }
}
