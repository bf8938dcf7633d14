//! The location dimension: remote jobs match anyone; otherwise same city full, same country
//! partial, elsewhere low.

use hirewire_profile::Profile;

use crate::cv::CvIndex;
use crate::text::{same_name, simple_fold};
use crate::{Evidence, EvidenceKind, JobSpec, RemoteKind};

/// Country names and common spellings → ISO 3166-1 alpha-2, folded.
const COUNTRIES: &[(&str, &[&str])] = &[
    (
        "GB",
        &[
            "unitedkingdom",
            "uk",
            "greatbritain",
            "england",
            "scotland",
            "wales",
            "britain",
            "northernireland",
        ],
    ),
    (
        "US",
        &["unitedstates", "usa", "unitedstatesofamerica", "america"],
    ),
    ("DE", &["germany", "deutschland"]),
    ("FR", &["france"]),
    ("ES", &["spain", "espana"]),
    ("IT", &["italy", "italia"]),
    ("NL", &["netherlands", "holland", "thenetherlands"]),
    ("BE", &["belgium"]),
    ("CH", &["switzerland", "schweiz", "suisse"]),
    ("AT", &["austria", "osterreich"]),
    ("IE", &["ireland"]),
    ("PT", &["portugal"]),
    ("PL", &["poland", "polska"]),
    ("SE", &["sweden", "sverige"]),
    ("NO", &["norway", "norge"]),
    ("DK", &["denmark", "danmark"]),
    ("FI", &["finland", "suomi"]),
    ("CZ", &["czechia", "czechrepublic"]),
    ("RO", &["romania"]),
    ("GR", &["greece"]),
    ("HU", &["hungary"]),
    ("EE", &["estonia"]),
    ("LT", &["lithuania"]),
    ("LV", &["latvia"]),
    ("UA", &["ukraine"]),
    ("TR", &["turkey", "turkiye"]),
    ("IL", &["israel"]),
    ("AE", &["unitedarabemirates", "uae"]),
    ("CA", &["canada"]),
    ("MX", &["mexico"]),
    ("BR", &["brazil", "brasil"]),
    ("AR", &["argentina"]),
    ("CO", &["colombia"]),
    ("CL", &["chile"]),
    ("IN", &["india"]),
    ("PK", &["pakistan"]),
    ("BD", &["bangladesh"]),
    ("CN", &["china"]),
    ("JP", &["japan"]),
    ("KR", &["southkorea", "korea"]),
    ("SG", &["singapore"]),
    ("MY", &["malaysia"]),
    ("ID", &["indonesia"]),
    ("PH", &["philippines"]),
    ("VN", &["vietnam"]),
    ("AU", &["australia"]),
    ("NZ", &["newzealand"]),
    ("ZA", &["southafrica"]),
    ("NG", &["nigeria"]),
    ("KE", &["kenya"]),
    ("EG", &["egypt"]),
];

/// Large cities → country, for profiles that give a city without a country.
const CITIES: &[(&str, &str)] = &[
    ("london", "GB"),
    ("manchester", "GB"),
    ("edinburgh", "GB"),
    ("glasgow", "GB"),
    ("bristol", "GB"),
    ("birmingham", "GB"),
    ("leeds", "GB"),
    ("cambridge", "GB"),
    ("oxford", "GB"),
    ("belfast", "GB"),
    ("cardiff", "GB"),
    ("berlin", "DE"),
    ("munich", "DE"),
    ("munchen", "DE"),
    ("hamburg", "DE"),
    ("frankfurt", "DE"),
    ("cologne", "DE"),
    ("koln", "DE"),
    ("stuttgart", "DE"),
    ("paris", "FR"),
    ("lyon", "FR"),
    ("toulouse", "FR"),
    ("madrid", "ES"),
    ("barcelona", "ES"),
    ("valencia", "ES"),
    ("seville", "ES"),
    ("amsterdam", "NL"),
    ("rotterdam", "NL"),
    ("utrecht", "NL"),
    ("eindhoven", "NL"),
    ("dublin", "IE"),
    ("cork", "IE"),
    ("lisbon", "PT"),
    ("porto", "PT"),
    ("warsaw", "PL"),
    ("krakow", "PL"),
    ("wroclaw", "PL"),
    ("gdansk", "PL"),
    ("zurich", "CH"),
    ("geneva", "CH"),
    ("basel", "CH"),
    ("vienna", "AT"),
    ("wien", "AT"),
    ("stockholm", "SE"),
    ("gothenburg", "SE"),
    ("copenhagen", "DK"),
    ("oslo", "NO"),
    ("helsinki", "FI"),
    ("prague", "CZ"),
    ("milan", "IT"),
    ("rome", "IT"),
    ("turin", "IT"),
    ("brussels", "BE"),
    ("antwerp", "BE"),
    ("athens", "GR"),
    ("budapest", "HU"),
    ("bucharest", "RO"),
    ("tallinn", "EE"),
    ("vilnius", "LT"),
    ("riga", "LV"),
    ("kyiv", "UA"),
    ("istanbul", "TR"),
    ("telaviv", "IL"),
    ("dubai", "AE"),
    ("newyork", "US"),
    ("sanfrancisco", "US"),
    ("seattle", "US"),
    ("austin", "US"),
    ("boston", "US"),
    ("chicago", "US"),
    ("losangeles", "US"),
    ("denver", "US"),
    ("toronto", "CA"),
    ("vancouver", "CA"),
    ("montreal", "CA"),
    ("mexicocity", "MX"),
    ("saopaulo", "BR"),
    ("buenosaires", "AR"),
    ("bogota", "CO"),
    ("bangalore", "IN"),
    ("bengaluru", "IN"),
    ("mumbai", "IN"),
    ("delhi", "IN"),
    ("hyderabad", "IN"),
    ("pune", "IN"),
    ("singapore", "SG"),
    ("tokyo", "JP"),
    ("seoul", "KR"),
    ("shanghai", "CN"),
    ("beijing", "CN"),
    ("sydney", "AU"),
    ("melbourne", "AU"),
    ("auckland", "NZ"),
    ("capetown", "ZA"),
    ("johannesburg", "ZA"),
    ("lagos", "NG"),
    ("nairobi", "KE"),
    ("cairo", "EG"),
];

/// ISO code of a country name or code.
pub(crate) fn country_code(s: &str) -> Option<&'static str> {
    let f = simple_fold(s);
    if f.is_empty() {
        return None;
    }
    COUNTRIES
        .iter()
        .find(|(code, names)| f.eq_ignore_ascii_case(code) || names.contains(&f.as_str()))
        .map(|(code, _)| *code)
}

/// Whether a text names the country with this code (by any of its names, not its code, since
/// two-letter codes are ordinary words: "IN", "NO", "IT").
fn names_country(text: &str, code: &str) -> bool {
    let Some((_, names)) = COUNTRIES.iter().find(|(c, _)| *c == code) else {
        return false;
    };
    let folded: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(simple_fold)
        .collect();
    // Country names run up to four words ("united states of america").
    (0..folded.len()).any(|i| {
        (1..=4).any(|n| {
            i + n <= folded.len() && {
                let joined: String = folded[i..i + n].concat();
                names.contains(&joined.as_str()) && (joined.len() > 2 || text.contains("UK"))
            }
        })
    })
}

fn city_country(city: &str) -> Option<&'static str> {
    let f = simple_fold(city);
    CITIES.iter().find(|(c, _)| *c == f).map(|(_, code)| *code)
}

/// The candidate's city and country, from the basics or else the latest position.
fn candidate_place(profile: &Profile) -> (Option<String>, Option<&'static str>, String) {
    if let Some(loc) = &profile.basics.location {
        let city = loc.city.clone().filter(|c| !c.trim().is_empty());
        let country = loc
            .country_code
            .as_deref()
            .and_then(country_code)
            .or_else(|| loc.region.as_deref().and_then(country_code))
            .or_else(|| city.as_deref().and_then(city_country));
        if city.is_some() || country.is_some() {
            return (city, country, "profile.basics.location".to_string());
        }
    }
    for (i, w) in profile.work.iter().enumerate().take(1) {
        if let Some(l) = w.location.as_deref() {
            let mut parts = l.split(',').map(str::trim).filter(|p| !p.is_empty());
            let city = parts.next().map(str::to_string);
            let country = l
                .split(',')
                .rev()
                .find_map(country_code)
                .or_else(|| city.as_deref().and_then(city_country));
            return (city, country, format!("profile.work[{i}].location"));
        }
    }
    (None, None, "profile.basics.location".to_string())
}

/// The outcome of the location dimension.
pub(crate) struct LocationOutcome {
    pub(crate) score: f64,
    /// False when the job says nothing about where it is.
    pub(crate) informative: bool,
    pub(crate) evidence: Vec<Evidence>,
    /// A sentence for the rationale.
    pub(crate) summary: String,
    /// Whether the candidate's location is unknown while it matters.
    pub(crate) unknown: bool,
}

/// Scores the location dimension.
pub(crate) fn score(job: &JobSpec, profile: &Profile, cv: Option<&CvIndex>) -> LocationOutcome {
    let job_city = job.city.as_deref().filter(|c| !c.trim().is_empty());
    let job_country = job
        .country
        .as_deref()
        .and_then(country_code)
        .or_else(|| job_city.and_then(city_country));
    let (city, country, source) = candidate_place(profile);
    let line = city.as_deref().and_then(|c| cv?.find(c));
    let place = match (&city, country) {
        (Some(c), Some(k)) => format!("{c} ({k})"),
        (Some(c), None) => c.clone(),
        (None, Some(k)) => k.to_string(),
        (None, None) => String::new(),
    };
    let ev = |kind, text: String| Evidence {
        kind,
        text,
        source: source.clone(),
        line,
        excerpt: line.and_then(|l| cv?.excerpt(l)),
    };
    let remote = job.remote_type == Some(RemoteKind::Remote);
    if job_city.is_none() && job_country.is_none() {
        let (text, summary) = if remote {
            (
                "Remote job: location does not matter.",
                "The job is remote.",
            )
        } else {
            ("The job states no location.", "")
        };
        return LocationOutcome {
            score: 1.0,
            informative: remote,
            evidence: vec![ev(EvidenceKind::Info, text.to_string())],
            summary: summary.to_string(),
            unknown: false,
        };
    }
    let same_city = match (job_city, &city) {
        (Some(j), Some(c)) => same_name(j, c),
        _ => false,
    };
    let same_country = match (job_country, country) {
        (Some(j), Some(c)) => j == c,
        _ => false,
    };
    let known = city.is_some() || country.is_some();
    let where_job = job_city
        .or(job.country.as_deref())
        .unwrap_or("the job's country");
    if remote {
        // A remote job with a country often means "remote within that country" — or within
        // the countries its description names ("remote within Ireland or the UK").
        let named = country.is_some_and(|c| {
            job.description
                .as_deref()
                .is_some_and(|d| names_country(d, c))
        });
        let (s, kind, text) =
            if !known || job_country.is_none() || same_country || same_city || named {
                (1.0, EvidenceKind::Match, "Remote job.".to_string())
            } else {
                (
                    0.3,
                    EvidenceKind::Partial,
                    format!("Remote job based in {where_job}; candidate is in {place}."),
                )
            };
        return LocationOutcome {
            score: s,
            informative: true,
            summary: "The job is remote.".to_string(),
            evidence: vec![ev(kind, text)],
            unknown: false,
        };
    }
    let hybrid = job.remote_type == Some(RemoteKind::Hybrid);
    let mode = if hybrid { "hybrid" } else { "on-site" };
    let (s, kind, text, summary) = if same_city {
        (
            1.0,
            EvidenceKind::Match,
            format!("Based in {place}, where the {mode} job is."),
            format!(
                "Based in {}, where the job is.",
                city.as_deref().unwrap_or(&place)
            ),
        )
    } else if !known {
        (
            0.5,
            EvidenceKind::Info,
            format!("Candidate location unknown; the {mode} job is in {where_job}."),
            "Location unknown.".to_string(),
        )
    } else if same_country {
        (
            if hybrid { 0.6 } else { 0.5 },
            EvidenceKind::Partial,
            format!("Based in {place}: same country as the {mode} job in {where_job}."),
            format!("Based in {place}, in the job's country."),
        )
    } else {
        (
            if hybrid { 0.15 } else { 0.1 },
            EvidenceKind::Missing,
            format!("Based in {place}; the {mode} job is in {where_job}."),
            format!("Based in {place}, away from the {mode} job in {where_job}."),
        )
    };
    LocationOutcome {
        score: s,
        informative: true,
        evidence: vec![ev(kind, text)],
        summary,
        unknown: !known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hirewire_profile::{Basics, Location};

    fn at(city: &str, cc: Option<&str>) -> Profile {
        Profile {
            basics: Basics {
                location: Some(Location {
                    city: Some(city.into()),
                    country_code: cc.map(str::to_string),
                    ..Location::default()
                }),
                ..Basics::default()
            },
            ..Profile::default()
        }
    }

    fn job(city: &str, country: &str, kind: RemoteKind) -> JobSpec {
        JobSpec {
            title: "X".into(),
            city: Some(city.into()),
            country: Some(country.into()),
            remote_type: Some(kind),
            ..JobSpec::default()
        }
    }

    #[test]
    fn city_country_elsewhere() {
        let j = job("London", "United Kingdom", RemoteKind::OnSite);
        assert_eq!(score(&j, &at("london", Some("GB")), None).score, 1.0);
        assert_eq!(score(&j, &at("Manchester", None), None).score, 0.5);
        assert_eq!(score(&j, &at("Berlin", Some("DE")), None).score, 0.1);
        assert_eq!(score(&j, &Profile::default(), None).score, 0.5);
    }

    #[test]
    fn remote_is_full() {
        let j = JobSpec {
            remote_type: Some(RemoteKind::Remote),
            ..JobSpec::default()
        };
        assert_eq!(score(&j, &at("Lima", None), None).score, 1.0);
    }

    #[test]
    fn remote_within_named_countries() {
        let mut j = job("Dublin", "IE", RemoteKind::Remote);
        j.description = Some("Remote within Ireland or the UK.".into());
        assert_eq!(score(&j, &at("Belfast", Some("GB")), None).score, 1.0);
        assert_eq!(score(&j, &at("Prague", Some("CZ")), None).score, 0.3);
    }

    #[test]
    fn countries_by_name_or_code() {
        assert_eq!(country_code("GB"), Some("GB"));
        assert_eq!(country_code("United Kingdom"), Some("GB"));
        assert_eq!(country_code("España"), Some("ES"));
        assert_eq!(country_code(""), None);
    }
}
