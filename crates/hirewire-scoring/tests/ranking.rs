//! Ranking quality on a labelled set: every candidate of each job is scored, ranked, and the
//! ranking compared with the graded labels by NDCG@10 (gain 2^grade − 1, log2 discount).
//!
//! The set is `tests/fixtures/ranking/` (jobs/, candidates/<job>/, labels.json) when present,
//! else the small development set in `tests/fixtures/own/` (`RANKING_SET=own` forces it). Run
//! with `--nocapture` to see the per-job figures; `RANKING_VERBOSE=1` adds every candidate's
//! score, grade and rationale, `RANKING_JSON=<job>/<candidate>` one evaluation in full.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use hirewire_profile::Profile;
use hirewire_scoring::{CandidateSpec, Evaluation, Evaluator, JobSpec, Matcher};
use serde_json::Value;

/// The bar from the issue.
const MIN_MEAN_NDCG: f64 = 0.85;
/// Month the fixtures' open-ended positions run to, unless the set says otherwise: the
/// ranking set's README derives `total_experience_years` "as of 2026-11".
const DEFAULT_AS_OF: (i32, u32) = (2026, 11);

struct Candidate {
    id: String,
    profile: Profile,
    cv_text: Option<String>,
    parsed: bool,
}

fn stem(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map_or(name.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Grades per job per candidate, from any of the shapes a labels file is likely to take.
fn load_labels(v: &Value) -> BTreeMap<String, BTreeMap<String, (u32, String)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (u32, String)>> = BTreeMap::new();
    let grade_of = |v: &Value| -> Option<(u32, String)> {
        match v {
            Value::Number(n) => Some((n.as_u64()? as u32, String::new())),
            Value::Object(o) => {
                let g = o
                    .get("grade")
                    .or_else(|| o.get("label"))
                    .or_else(|| o.get("relevance"))?
                    .as_u64()? as u32;
                let r = o
                    .get("reason")
                    .or_else(|| o.get("reasons"))
                    .map(|r| match r {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                Some((g, r))
            }
            _ => None,
        }
    };
    let rows: Option<&Vec<Value>> = v
        .as_array()
        .or_else(|| v.get("labels").and_then(Value::as_array));
    if let Some(rows) = rows {
        for r in rows {
            let job = r
                .get("job")
                .or_else(|| r.get("job_id"))
                .and_then(Value::as_str);
            let cand = r
                .get("candidate")
                .or_else(|| r.get("candidate_id"))
                .or_else(|| r.get("file"))
                .and_then(Value::as_str);
            if let (Some(j), Some(c), Some(g)) = (job, cand, grade_of(r)) {
                out.entry(stem(j)).or_default().insert(stem(c), g);
            }
        }
        return out;
    }
    let obj = v
        .get("labels")
        .or_else(|| v.get("jobs"))
        .unwrap_or(v)
        .as_object();
    for (job, cands) in obj.into_iter().flatten() {
        let cands = cands.get("candidates").unwrap_or(cands);
        if let Some(cands) = cands.as_object() {
            for (c, g) in cands {
                if let Some(g) = grade_of(g) {
                    out.entry(stem(job)).or_default().insert(stem(c), g);
                }
            }
        } else if let Some(rows) = cands.as_array() {
            for r in rows {
                let c = r
                    .get("candidate")
                    .or_else(|| r.get("id"))
                    .or_else(|| r.get("file"))
                    .and_then(Value::as_str);
                if let (Some(c), Some(g)) = (c, grade_of(r)) {
                    out.entry(stem(job)).or_default().insert(stem(c), g);
                }
            }
        }
    }
    out
}

fn load_candidate(path: &Path) -> Option<Candidate> {
    let id = stem(&path.file_name()?.to_string_lossy());
    let v: Value = serde_json::from_str(&fs::read_to_string(path).ok()?).ok()?;
    let (profile_v, mut cv_text, parsed) = match v.get("profile") {
        Some(p) => (
            p.clone(),
            v.get("cv_text")
                .or_else(|| v.get("cv"))
                .and_then(Value::as_str)
                .map(str::to_string),
            v.get("parsed").and_then(Value::as_bool).unwrap_or(true),
        ),
        None => (v.clone(), None, true),
    };
    let profile: Profile = match serde_json::from_value(profile_v) {
        Ok(p) => p,
        Err(e) => panic!("{}: not a profile: {e}", path.display()),
    };
    if cv_text.is_none() {
        cv_text = fs::read_to_string(path.with_extension("txt")).ok();
    }
    Some(Candidate {
        id,
        profile,
        cv_text,
        parsed,
    })
}

fn ndcg_at(ranked_grades: &[u32], all_grades: &[u32], k: usize) -> f64 {
    let dcg = |gs: &[u32]| -> f64 {
        gs.iter()
            .take(k)
            .enumerate()
            .map(|(i, &g)| (2f64.powi(g as i32) - 1.0) / ((i + 2) as f64).log2())
            .sum()
    };
    let mut ideal = all_grades.to_vec();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg = dcg(&ideal);
    if idcg <= 0.0 {
        1.0
    } else {
        dcg(ranked_grades) / idcg
    }
}

fn fixture_set() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // `RANKING_SET=own` picks another set under tests/fixtures.
    if let Ok(set) = std::env::var("RANKING_SET") {
        return root.join(set);
    }
    let ranking = root.join("ranking");
    if ranking.join("labels.json").exists() {
        ranking
    } else {
        root.join("own")
    }
}

fn as_of(dir: &Path, labels: &Value) -> (i32, u32) {
    // The set may say which month its CVs were written in, so that durations stay fixed.
    let from = |v: &Value| -> Option<(i32, u32)> {
        let s = v.get("as_of")?.as_str()?;
        let mut it = s.split('-');
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    from(labels)
        .or_else(|| {
            let m: Value =
                serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).ok()?).ok()?;
            from(&m)
        })
        .unwrap_or(DEFAULT_AS_OF)
}

#[test]
fn ndcg_at_10_meets_the_bar() {
    let dir = fixture_set();
    let labels_v: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("labels.json")).expect("labels.json"))
            .expect("labels.json is JSON");
    let labels = load_labels(&labels_v);
    assert!(!labels.is_empty(), "no labels read from {}", dir.display());
    let matcher = Matcher::new(as_of(&dir, &labels_v));
    println!(
        "fixture set: {} (as of {:?})",
        dir.display(),
        matcher.as_of()
    );

    let mut ndcgs = Vec::new();
    // `RANKING_RUN=<file>` writes the ranking as the set's `check.py` reads it.
    let mut run = serde_json::Map::new();
    for (job_id, grades) in &labels {
        let job_path = dir.join("jobs").join(format!("{job_id}.json"));
        let job: JobSpec = serde_json::from_str(
            &fs::read_to_string(&job_path).unwrap_or_else(|_| panic!("{}", job_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", job_path.display()));
        let mut cands: Vec<Candidate> = fs::read_dir(dir.join("candidates").join(job_id))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .filter_map(|p| load_candidate(&p))
                    .collect()
            })
            .unwrap_or_default();
        cands.sort_by(|a, b| a.id.cmp(&b.id));
        let mut scored: Vec<(Evaluation, &Candidate, u32)> = cands
            .iter()
            .filter_map(|c| {
                let g = grades.get(&c.id)?.0;
                let e = matcher.evaluate(
                    &job,
                    &CandidateSpec {
                        profile: &c.profile,
                        cv_text: c.cv_text.as_deref(),
                        parsed: c.parsed,
                    },
                );
                Some((e, c, g))
            })
            .collect();
        // Ties broken by id so that the figure is reproducible.
        scored.sort_by(|a, b| b.0.score.cmp(&a.0.score).then(a.1.id.cmp(&b.1.id)));
        let ranked: Vec<u32> = scored.iter().map(|s| s.2).collect();
        run.insert(
            format!("{job_id}.json"),
            scored
                .iter()
                .map(|s| Value::String(format!("{}.json", s.1.id)))
                .collect(),
        );
        let all: Vec<u32> = grades.values().map(|g| g.0).collect();
        let n = ndcg_at(&ranked, &all, 10);
        println!(
            "{job_id}: NDCG@10 = {n:.3} ({} candidates scored of {} labelled)",
            scored.len(),
            grades.len()
        );
        // `RANKING_JSON=<job>/<candidate>` prints that evaluation in full.
        if let Ok(which) = std::env::var("RANKING_JSON") {
            for (e, c, _) in &scored {
                if which == format!("{job_id}/{}", c.id) {
                    println!("{}", serde_json::to_string_pretty(e).unwrap_or_default());
                }
            }
        }
        if std::env::var_os("RANKING_VERBOSE").is_some() {
            for (e, c, g) in &scored {
                println!(
                    "    {:>3} grade {g} {:<28} {}  [{}]",
                    e.score,
                    c.id,
                    e.rationale,
                    grades.get(&c.id).map_or("", |x| x.1.as_str())
                );
            }
        }
        ndcgs.push((n, job_id.clone()));
    }
    if let Ok(path) = std::env::var("RANKING_RUN") {
        let text = serde_json::to_string_pretty(&Value::Object(run)).unwrap_or_default();
        if let Err(e) = fs::write(&path, text) {
            println!("could not write {path}: {e}");
        }
    }
    let mean = ndcgs.iter().map(|n| n.0).sum::<f64>() / ndcgs.len() as f64;
    let worst = ndcgs.iter().min_by(|a, b| a.0.total_cmp(&b.0));
    println!("mean NDCG@10 = {mean:.3} over {} jobs", ndcgs.len());
    if let Some((n, job)) = worst {
        println!("worst job: {job} ({n:.3})");
    }
    assert!(
        mean >= MIN_MEAN_NDCG,
        "mean NDCG@10 {mean:.3} < {MIN_MEAN_NDCG}"
    );
}

#[test]
fn ndcg_formula() {
    assert!((ndcg_at(&[3, 2, 0], &[3, 2, 0], 10) - 1.0).abs() < 1e-12);
    assert!(ndcg_at(&[0, 2, 3], &[3, 2, 0], 10) < 0.7);
    assert_eq!(ndcg_at(&[0, 0], &[0, 0], 10), 1.0);
}
