//! Countries (names in several languages, ISO codes, calling codes and trunk prefixes) and the
//! candidate's location line.

use crate::profile::Location;

/// A country: ISO code, calling code, national trunk prefix, and names it goes by.
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: &'static str,
    /// International calling code without "+".
    pub calling: &'static str,
    /// The national trunk prefix dropped in international form ("0" in GB, DE, FR).
    pub trunk: &'static str,
    /// Lower-case names and common abbreviations.
    pub names: &'static [&'static str],
}

/// The countries the parser knows; calling codes shared by several (NANP "1") name the
/// most common first.
pub const COUNTRIES: &[Country] = &[
    Country {
        code: "US",
        calling: "1",
        trunk: "",
        names: &[
            "united states",
            "usa",
            "u.s.a.",
            "us",
            "united states of america",
            "estados unidos",
        ],
    },
    Country {
        code: "CA",
        calling: "1",
        trunk: "",
        names: &["canada"],
    },
    Country {
        code: "GB",
        calling: "44",
        trunk: "0",
        names: &[
            "united kingdom",
            "uk",
            "u.k.",
            "england",
            "scotland",
            "wales",
            "great britain",
            "northern ireland",
            "reino unido",
            "vereinigtes königreich",
        ],
    },
    Country {
        code: "IE",
        calling: "353",
        trunk: "0",
        names: &["ireland", "irland"],
    },
    Country {
        code: "DE",
        calling: "49",
        trunk: "0",
        names: &[
            "germany",
            "deutschland",
            "alemania",
            "allemagne",
            "duitsland",
            "alemanha",
        ],
    },
    Country {
        code: "AT",
        calling: "43",
        trunk: "0",
        names: &["austria", "österreich", "autriche"],
    },
    Country {
        code: "CH",
        calling: "41",
        trunk: "0",
        names: &["switzerland", "schweiz", "suisse", "suiza", "svizzera"],
    },
    Country {
        code: "FR",
        calling: "33",
        trunk: "0",
        names: &["france", "frankreich", "francia", "frankrijk", "frança"],
    },
    Country {
        code: "ES",
        calling: "34",
        trunk: "",
        names: &[
            "spain", "españa", "espana", "spanien", "espagne", "spanje", "espanha",
        ],
    },
    Country {
        code: "PT",
        calling: "351",
        trunk: "",
        names: &["portugal"],
    },
    Country {
        code: "IT",
        calling: "39",
        trunk: "",
        names: &["italy", "italia", "italien", "italie", "italië"],
    },
    Country {
        code: "NL",
        calling: "31",
        trunk: "0",
        names: &[
            "netherlands",
            "the netherlands",
            "nederland",
            "holland",
            "niederlande",
            "países bajos",
            "pays-bas",
        ],
    },
    Country {
        code: "BE",
        calling: "32",
        trunk: "0",
        names: &["belgium", "belgië", "belgique", "belgien", "bélgica"],
    },
    Country {
        code: "LU",
        calling: "352",
        trunk: "",
        names: &["luxembourg", "luxemburg"],
    },
    Country {
        code: "SE",
        calling: "46",
        trunk: "0",
        names: &["sweden", "sverige", "schweden", "suecia", "suède"],
    },
    Country {
        code: "NO",
        calling: "47",
        trunk: "",
        names: &["norway", "norge", "norwegen", "noruega"],
    },
    Country {
        code: "DK",
        calling: "45",
        trunk: "",
        names: &["denmark", "danmark", "dänemark", "dinamarca"],
    },
    Country {
        code: "FI",
        calling: "358",
        trunk: "0",
        names: &["finland", "suomi", "finnland"],
    },
    Country {
        code: "PL",
        calling: "48",
        trunk: "",
        names: &["poland", "polska", "polen", "polonia", "pologne"],
    },
    Country {
        code: "CZ",
        calling: "420",
        trunk: "",
        names: &["czech republic", "czechia", "česko", "tschechien"],
    },
    Country {
        code: "SK",
        calling: "421",
        trunk: "0",
        names: &["slovakia", "slovensko"],
    },
    Country {
        code: "HU",
        calling: "36",
        trunk: "06",
        names: &["hungary", "magyarország", "ungarn"],
    },
    Country {
        code: "RO",
        calling: "40",
        trunk: "0",
        names: &["romania", "românia", "rumänien"],
    },
    Country {
        code: "GR",
        calling: "30",
        trunk: "",
        names: &["greece", "griechenland", "grecia"],
    },
    Country {
        code: "TR",
        calling: "90",
        trunk: "0",
        names: &["turkey", "türkiye", "türkei", "turquía"],
    },
    Country {
        code: "UA",
        calling: "380",
        trunk: "0",
        names: &["ukraine", "ucrania"],
    },
    Country {
        code: "IN",
        calling: "91",
        trunk: "0",
        names: &["india", "indien"],
    },
    Country {
        code: "PK",
        calling: "92",
        trunk: "0",
        names: &["pakistan"],
    },
    Country {
        code: "BD",
        calling: "880",
        trunk: "0",
        names: &["bangladesh"],
    },
    Country {
        code: "CN",
        calling: "86",
        trunk: "0",
        names: &["china"],
    },
    Country {
        code: "JP",
        calling: "81",
        trunk: "0",
        names: &["japan", "japón", "japon"],
    },
    Country {
        code: "KR",
        calling: "82",
        trunk: "0",
        names: &["south korea", "korea"],
    },
    Country {
        code: "SG",
        calling: "65",
        trunk: "",
        names: &["singapore"],
    },
    Country {
        code: "AU",
        calling: "61",
        trunk: "0",
        names: &["australia"],
    },
    Country {
        code: "NZ",
        calling: "64",
        trunk: "0",
        names: &["new zealand"],
    },
    Country {
        code: "BR",
        calling: "55",
        trunk: "0",
        names: &["brazil", "brasil", "brasilien"],
    },
    Country {
        code: "MX",
        calling: "52",
        trunk: "",
        names: &["mexico", "méxico"],
    },
    Country {
        code: "AR",
        calling: "54",
        trunk: "0",
        names: &["argentina"],
    },
    Country {
        code: "CO",
        calling: "57",
        trunk: "",
        names: &["colombia"],
    },
    Country {
        code: "CL",
        calling: "56",
        trunk: "",
        names: &["chile"],
    },
    Country {
        code: "ZA",
        calling: "27",
        trunk: "0",
        names: &["south africa"],
    },
    Country {
        code: "NG",
        calling: "234",
        trunk: "0",
        names: &["nigeria"],
    },
    Country {
        code: "GH",
        calling: "233",
        trunk: "0",
        names: &["ghana"],
    },
    Country {
        code: "KE",
        calling: "254",
        trunk: "0",
        names: &["kenya"],
    },
    Country {
        code: "EG",
        calling: "20",
        trunk: "0",
        names: &["egypt"],
    },
    Country {
        code: "AE",
        calling: "971",
        trunk: "0",
        names: &["united arab emirates", "uae"],
    },
    Country {
        code: "IL",
        calling: "972",
        trunk: "0",
        names: &["israel"],
    },
    Country {
        code: "VN",
        calling: "84",
        trunk: "0",
        names: &["vietnam", "viet nam"],
    },
    Country {
        code: "PH",
        calling: "63",
        trunk: "0",
        names: &["philippines"],
    },
    Country {
        code: "ID",
        calling: "62",
        trunk: "0",
        names: &["indonesia"],
    },
    Country {
        code: "MY",
        calling: "60",
        trunk: "0",
        names: &["malaysia"],
    },
    Country {
        code: "TH",
        calling: "66",
        trunk: "0",
        names: &["thailand"],
    },
];

/// US state and Canadian province abbreviations, for "Seattle, WA".
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC",
];

/// The country a name (or ISO code) stands for.
pub fn country_by_name(name: &str) -> Option<&'static Country> {
    let n = name
        .trim()
        .trim_matches(|c: char| c == '.' || c == ',')
        .to_lowercase();
    if n.is_empty() {
        return None;
    }
    COUNTRIES.iter().find(|c| {
        c.names.contains(&n.as_str()) || (n.len() == 2 && c.code.eq_ignore_ascii_case(&n))
    })
}

/// The country with ISO code `code`.
pub fn country_by_code(code: &str) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// Reads "City, Country", "City, ST" or "City (Country)" from one segment of a contact line.
pub fn parse_location(seg: &str) -> Option<Location> {
    let seg = seg
        .trim()
        .trim_start_matches(['•', '-', '*', '·'])
        .trim()
        .trim_start_matches("Location:")
        .trim_start_matches("Address:")
        .trim();
    if seg.is_empty() || seg.len() > 60 || seg.contains('@') || seg.contains("://") {
        return None;
    }
    if seg.chars().filter(char::is_ascii_digit).count() > 5 {
        return None;
    }
    let parts: Vec<&str> = seg
        .split([',', '(', ')'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return None;
    }
    let last = parts[parts.len() - 1];
    let city = parts[0]
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '-')
        .trim();
    if city.is_empty() || !city.chars().next().is_some_and(char::is_alphabetic) {
        return None;
    }
    if let Some(c) = country_by_name(last)
        && !(last.len() == 2 && US_STATES.contains(&last) && c.code != "US")
    {
        return Some(Location {
            city: Some(city.to_owned()),
            country_code: Some(c.code.to_owned()),
            ..Location::default()
        });
    }
    if US_STATES.contains(&last) {
        return Some(Location {
            city: Some(city.to_owned()),
            region: Some(last.to_owned()),
            country_code: Some("US".to_owned()),
            ..Location::default()
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let l = parse_location("Madrid, España").unwrap();
        assert_eq!(l.city.as_deref(), Some("Madrid"));
        assert_eq!(l.country_code.as_deref(), Some("ES"));
        let l = parse_location("Seattle, WA").unwrap();
        assert_eq!(l.country_code.as_deref(), Some("US"));
        let l = parse_location("Seattle, USA").unwrap();
        assert_eq!(l.country_code.as_deref(), Some("US"));
        let l = parse_location("Hamburg, Deutschland").unwrap();
        assert_eq!(l.country_code.as_deref(), Some("DE"));
        assert!(parse_location("Java, Python").is_none());
        assert!(parse_location("jane@example.com").is_none());
    }
}
