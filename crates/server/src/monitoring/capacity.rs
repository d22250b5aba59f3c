//! The capacity self-assessments, in aggregate only. Each country submits the self-assessment
//! form (a report form of the pack, [`CAPACITY_FORM`]) once a cycle; the Secretariat never sees
//! one country's answers, only totals by region, and a region only when at least the
//! threshold of countries answered (`serve --capacity-min-respondents`) — or when every
//! country counted in it agreed to be named (the form's `consent` question). The same rule
//! holds for each cycle in the comparison between cycles.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use stopover_forms::Form;
use stopover_protocol::forum::{REGIONS, region_of};

use crate::error::Result;

/// The form id of the self-assessment in the content pack.
pub const CAPACITY_FORM: &str = "capacity-self-assessment";
/// The select_multiple of topics a country needs support on, and its choice list.
pub const NEEDS_QUESTION: &str = "need_topics";
pub const TOPICS_LIST: &str = "topics";
/// `yes` when the country agrees to be named.
pub const CONSENT_QUESTION: &str = "consent";
/// Knowledge of each topic: `k_<topic>` (levels 1–4 of the list `level`).
pub const KNOWLEDGE_PREFIX: &str = "k_";

/// One submitted self-assessment.
#[derive(Debug, Clone)]
pub struct Response {
    pub country: String,
    pub region: Option<&'static str>,
    pub cycle: String,
    /// Answer by question name (the path's last segment: the form has no repeats).
    pub answers: BTreeMap<String, String>,
}

impl Response {
    pub fn consents(&self) -> bool {
        self.answers.get(CONSENT_QUESTION).map(String::as_str) == Some("yes")
    }

    fn needs(&self) -> impl Iterator<Item = &str> {
        self.answers
            .get(NEEDS_QUESTION)
            .map(|v| v.split_whitespace())
            .into_iter()
            .flatten()
    }
}

/// Every submitted self-assessment (of one cycle, or all).
pub fn responses(conn: &Connection, cycle: Option<&str>) -> Result<Vec<Response>> {
    let mut stmt = conn.prepare(
        "SELECT country, cycle, answers FROM report_submission
         WHERE form_id = ?1 AND (?2 IS NULL OR cycle = ?2) ORDER BY cycle, country",
    )?;
    let rows = stmt.query_map(params![CAPACITY_FORM, cycle], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (country, cycle, json) = row?;
        let by_path: BTreeMap<String, String> = serde_json::from_str(&json)?;
        let answers = by_path
            .into_iter()
            .map(|(p, v)| (p.rsplit('/').next().unwrap_or(&p).to_string(), v))
            .collect();
        out.push(Response {
            region: region_of(&country),
            country,
            cycle,
            answers,
        });
    }
    Ok(out)
}

/// May a group of responses be shown? Enough of them, or every one agreed to be named.
pub fn may_show(group: &[&Response], threshold: usize) -> bool {
    !group.is_empty() && (group.len() >= threshold || group.iter().all(|r| r.consents()))
}

/// A topic: its choice name and label (in the language asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub label: String,
}

/// The topics of the form, labelled in `lang`.
pub fn topics(form: &Form, lang: &str) -> Vec<Topic> {
    form.choice_list(TOPICS_LIST)
        .iter()
        .map(|c| Topic {
            name: c.name.clone(),
            label: c
                .label
                .get(lang, Some(form.default_language()))
                .unwrap_or(&c.name)
                .to_string(),
        })
        .collect()
}

/// A region's place in the needs chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCount {
    pub region: &'static str,
    pub respondents: usize,
    /// False when too few answered (and not all agreed to be named): not shown.
    pub shown: bool,
}

/// Needs by topic and region: how many countries of each shown region need each topic.
#[derive(Debug, Clone)]
pub struct NeedsByRegion {
    pub topics: Vec<Topic>,
    pub regions: Vec<RegionCount>,
    /// (region, topic name) → countries; only for shown regions.
    pub counts: BTreeMap<(&'static str, String), usize>,
}

pub fn needs_by_region(
    responses: &[Response],
    form: &Form,
    lang: &str,
    threshold: usize,
) -> NeedsByRegion {
    let topics = topics(form, lang);
    let mut regions = Vec::new();
    let mut counts = BTreeMap::new();
    for region in REGIONS {
        let group: Vec<&Response> = responses
            .iter()
            .filter(|r| r.region == Some(region))
            .collect();
        if group.is_empty() {
            continue;
        }
        let shown = may_show(&group, threshold);
        regions.push(RegionCount {
            region,
            respondents: group.len(),
            shown,
        });
        if !shown {
            continue;
        }
        for t in &topics {
            let n = group
                .iter()
                .filter(|r| r.needs().any(|x| x == t.name))
                .count();
            counts.insert((region, t.name.clone()), n);
        }
    }
    NeedsByRegion {
        topics,
        regions,
        counts,
    }
}

/// A cycle's place in the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleCount {
    pub cycle: String,
    pub respondents: usize,
    pub shown: bool,
}

/// Average knowledge of each topic (1–4), cycle by cycle.
#[derive(Debug, Clone)]
pub struct KnowledgeByCycle {
    pub topics: Vec<Topic>,
    pub cycles: Vec<CycleCount>,
    /// (cycle, topic name) → average level; only for shown cycles.
    pub means: BTreeMap<(String, String), f64>,
}

pub fn knowledge_by_cycle(
    responses: &[Response],
    form: &Form,
    lang: &str,
    threshold: usize,
) -> KnowledgeByCycle {
    let topics = topics(form, lang);
    let mut cycle_names: Vec<&str> = responses.iter().map(|r| r.cycle.as_str()).collect();
    cycle_names.sort_unstable();
    cycle_names.dedup();
    let mut cycles = Vec::new();
    let mut means = BTreeMap::new();
    for cycle in cycle_names {
        let group: Vec<&Response> = responses.iter().filter(|r| r.cycle == cycle).collect();
        let shown = may_show(&group, threshold);
        cycles.push(CycleCount {
            cycle: cycle.to_string(),
            respondents: group.len(),
            shown,
        });
        if !shown {
            continue;
        }
        for t in &topics {
            let levels: Vec<f64> = group
                .iter()
                .filter_map(|r| r.answers.get(&format!("{KNOWLEDGE_PREFIX}{}", t.name)))
                .filter_map(|v| v.parse::<f64>().ok())
                .collect();
            if !levels.is_empty() {
                means.insert(
                    (cycle.to_string(), t.name.clone()),
                    levels.iter().sum::<f64>() / levels.len() as f64,
                );
            }
        }
    }
    KnowledgeByCycle {
        topics,
        cycles,
        means,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(country: &str, cycle: &str, needs: &str, consent: &str, k: &str) -> Response {
        let mut answers = BTreeMap::new();
        answers.insert(NEEDS_QUESTION.to_string(), needs.to_string());
        answers.insert(CONSENT_QUESTION.to_string(), consent.to_string());
        answers.insert("k_finances".to_string(), k.to_string());
        Response {
            region: region_of(country),
            country: country.into(),
            cycle: cycle.into(),
            answers,
        }
    }

    fn form() -> Form {
        stopover_forms::load_text(include_str!(
            "../../../../assets/forms/capacity-self-assessment.txt"
        ))
        .expect("the shipped self-assessment loads")
    }

    #[test]
    fn regions_below_the_threshold_are_hidden_unless_all_agree() {
        let form = form();
        let all = vec![
            response("KE", "COP15", "finances meetings", "no", "2"),
            response("UG", "COP15", "finances", "no", "3"),
            response("TZ", "COP15", "national_reporting", "no", "1"),
            response("FR", "COP15", "finances", "no", "4"),
            response("AU", "COP15", "meetings", "yes", "2"),
        ];
        let needs = needs_by_region(&all, &form, "fr", 3);
        let region = |r: &str| {
            needs
                .regions
                .iter()
                .find(|x| x.region == r)
                .unwrap()
                .clone()
        };
        assert!(region("africa").shown);
        assert_eq!(region("africa").respondents, 3);
        assert!(!region("europe").shown, "one country that did not agree");
        assert!(region("oceania").shown, "one country, but it agreed");
        assert_eq!(needs.counts[&("africa", "finances".to_string())], 2);
        assert_eq!(needs.counts[&("africa", "meetings".to_string())], 1);
        assert!(
            !needs
                .counts
                .contains_key(&("europe", "finances".to_string()))
        );
        assert_eq!(needs.topics[4].label, "Finances");
        assert_eq!(needs.topics[0].label, "Désignation des points focaux");

        let mut later = all.clone();
        later.push(response("KE", "COP16", "", "no", "4"));
        let k = knowledge_by_cycle(&later, &form, "en", 3);
        assert_eq!(k.cycles.len(), 2);
        assert!(k.cycles[0].shown && !k.cycles[1].shown);
        assert_eq!(k.means[&("COP15".to_string(), "finances".to_string())], 2.4);
        assert!(!k.means.keys().any(|(c, _)| c == "COP16"));
    }
}
