//! A fake Azure tenant on loopback: Resource Graph and ARM answering for a generated fleet of
//! clusters, identities, vaults (and their diagnostic settings, for `check`), keys, alerts and
//! health statuses, made from the shipped
//! fixtures. It has Azure's latency and throttling (a quota of Resource Graph queries per window,
//! a bucket of reads per subscription, 429 with Retry-After when empty), and can deny a
//! subscription or throttle one in bursts.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The subscription and names the fixtures use, rewritten for each generated resource.
const FIXTURE_SUBSCRIPTION: &str = "6a1f4c2e-8b3d-4e5f-9a7b-1c2d3e4f5a6b";
const FIXTURE_VAULT: &str = "kv-cmk-prod";
const FIXTURE_KEY: &str = "cmk-citus";
const FIXTURE_IDENTITY: &str = "id-citus-cmk";
const FIXTURE_CLUSTER: &str = "citus-prod";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub clusters: usize,
    pub subscriptions: usize,
    pub vaults: usize,
    /// Keys in all, spread over the vaults.
    pub keys: usize,
    /// Every n-th cluster uses service-managed keys (0: none).
    pub service_managed_every: usize,
    /// Every n-th cluster is not Available (0: none).
    pub unavailable_every: usize,
    pub latency: Duration,
    /// Azure's quotas (15 Resource Graph queries per 5 s; 250 reads per subscription, 25/s).
    pub throttle: bool,
    /// A subscription (by index) whose ARM reads are denied (403).
    pub denied: Option<usize>,
    /// A subscription (by index) that answers every fifth ARM read with 429.
    pub bursty: Option<usize>,
    /// Rows a Resource Graph page holds at most (Azure: 1,000).
    pub page_rows: usize,
    /// Resource Graph lags ARM: its vault rows predate purge protection being turned on.
    pub stale_vaults: bool,
    /// The cluster query's answer is truncated and hits the tenant's subscription limit.
    pub truncated: bool,
}

impl Spec {
    pub fn small(clusters: usize) -> Self {
        Self {
            clusters,
            subscriptions: 3,
            vaults: (clusters / 2).max(1),
            keys: clusters.max(1),
            service_managed_every: 7,
            unavailable_every: 11,
            latency: Duration::ZERO,
            throttle: false,
            denied: None,
            bursty: None,
            page_rows: 1_000,
            stale_vaults: false,
            truncated: false,
        }
    }
}

/// How many requests of each kind the tenant answered.
#[derive(Debug, Default)]
pub struct Counts {
    pub graph: AtomicUsize,
    pub key_reads: AtomicUsize,
    pub version_lists: AtomicUsize,
    pub alert_lists: AtomicUsize,
    pub other_reads: AtomicUsize,
    pub throttled: AtomicUsize,
}

impl Counts {
    pub fn total(&self) -> usize {
        [
            &self.graph,
            &self.key_reads,
            &self.version_lists,
            &self.alert_lists,
            &self.other_reads,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum::<usize>()
            + self.throttled.load(Ordering::Relaxed)
    }
}

pub struct Tenant {
    pub server: MockServer,
    pub counts: Arc<Counts>,
    /// Resource IDs of the clusters, in generation order.
    pub clusters: Vec<String>,
    pub subscriptions: Vec<String>,
    /// The key bodies the customer-managed clusters name, by ARM path: one read each.
    pub keys_in_use: BTreeMap<String, Value>,
}

fn subscription(index: usize) -> String {
    format!("6a1f4c2e-8b3d-4e5f-9a7b-{index:012x}")
}

/// The fixtures a fleet is made of: complete snapshots whose key URI is the cluster's own.
fn fixtures() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> = std::fs::read_dir(root.join("fail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.insert(0, root.join("clean.json"));
    files
        .into_iter()
        .filter_map(|path| serde_json::from_str::<Value>(&std::fs::read_to_string(path).ok()?).ok())
        .filter(|f| {
            [
                "identity",
                "vault",
                "key",
                "keyVersions",
                "cluster",
                "activityLogAlerts",
            ]
            .iter()
            .all(|s| f.get(*s).is_some())
                && f["keyUri"] == f["cluster"]["properties"]["dataEncryption"]["primaryKeyUri"]
        })
        .collect()
}

/// A fixture body with the names of one generated resource.
fn rewrite(body: &Value, names: &[(&str, &str)]) -> Value {
    let mut text = body.to_string();
    for (from, to) in names {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap()
}

/// The fleet's resources: Resource Graph rows by table, ARM bodies by path.
#[derive(Default)]
struct World {
    rows: BTreeMap<&'static str, Vec<Value>>,
    bodies: HashMap<String, Value>,
}

impl World {
    fn add(&mut self, table: &'static str, row: Value) {
        let id = row["id"].as_str().unwrap().to_ascii_lowercase();
        self.bodies.insert(id, row.clone());
        self.rows.entry(table).or_default().push(row);
    }
}

/// What a fleet is: the fake's answers and what the tests know of them.
struct Generated {
    world: World,
    clusters: Vec<String>,
    subscriptions: Vec<String>,
    keys_in_use: BTreeMap<String, Value>,
}

fn generate(spec: &Spec) -> Generated {
    let fixtures = fixtures();
    let subscriptions: Vec<String> = (0..spec.subscriptions).map(subscription).collect();
    let keys_per_vault = (spec.keys / spec.vaults.max(1)).max(1);
    let mut world = World::default();
    let mut clusters = Vec::new();
    let mut keys_in_use = BTreeMap::new();
    for v in 0..spec.vaults {
        let fixture = &fixtures[v % fixtures.len()];
        let sub = &subscriptions[v % subscriptions.len()];
        let vault = format!("kv{v:05}");
        let names = [
            (FIXTURE_SUBSCRIPTION, sub.as_str()),
            (FIXTURE_VAULT, vault.as_str()),
        ];
        let vault_body = rewrite(&fixture["vault"], &names);
        if let Some(settings) = fixture.get("vaultDiagnosticSettings") {
            // Not in Resource Graph: only `check` reads them, from ARM.
            let path = format!(
                "{}/providers/microsoft.insights/diagnosticsettings",
                vault_body["id"].as_str().unwrap().to_ascii_lowercase()
            );
            world
                .bodies
                .insert(path, json!({ "value": rewrite(settings, &names) }));
        }
        world.add("vaults", vault_body);
        for k in 0..keys_per_vault {
            let key = format!("cmk-{k}");
            let names = [
                (FIXTURE_SUBSCRIPTION, sub.as_str()),
                (FIXTURE_VAULT, vault.as_str()),
                (FIXTURE_KEY, key.as_str()),
            ];
            let body = rewrite(&fixture["key"], &names);
            let vault_id = format!("/subscriptions/{sub}/resourcegroups/rg-citus-prod/providers/microsoft.keyvault/vaults/{vault}");
            let versions: Vec<Value> = fixture["keyVersions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| rewrite(v, &names))
                .collect();
            let uri = fixture["keyUri"].as_str().unwrap();
            let version = uri.rsplit('/').next().unwrap();
            world
                .bodies
                .insert(format!("{vault_id}/keys/{key}"), body.clone());
            world
                .bodies
                .insert(format!("{vault_id}/keys/{key}/versions/{version}"), body);
            world.bodies.insert(
                format!("{vault_id}/keys/{key}/versions"),
                json!({ "value": versions }),
            );
        }
        for alert in fixture["activityLogAlerts"].as_array().unwrap() {
            let mut alert = rewrite(alert, &names);
            let name = format!("{}-{v}", alert["name"].as_str().unwrap());
            let id = alert["id"]
                .as_str()
                .unwrap()
                .rsplit_once('/')
                .unwrap()
                .0
                .to_string();
            alert["id"] = json!(format!("{id}/{name}"));
            alert["name"] = json!(name);
            world.add("alerts", alert);
        }
    }
    for i in 0..spec.clusters {
        let v = i % spec.vaults.max(1);
        let fixture = &fixtures[v % fixtures.len()];
        let sub = &subscriptions[i % subscriptions.len()];
        let vault = format!("kv{v:05}");
        let key = format!("cmk-{}", (i / spec.vaults.max(1)) % keys_per_vault);
        let identity = format!("id-{i}");
        let cluster = format!("citus-{i}");
        let names = [
            (FIXTURE_SUBSCRIPTION, sub.as_str()),
            (FIXTURE_VAULT, vault.as_str()),
            (FIXTURE_KEY, key.as_str()),
            (FIXTURE_IDENTITY, identity.as_str()),
            (FIXTURE_CLUSTER, cluster.as_str()),
        ];
        let mut body = rewrite(&fixture["cluster"], &names);
        body["properties"]["provisioningState"] = json!("Succeeded");
        body["type"] = json!("Microsoft.DBforPostgreSQL/serverGroupsv2");
        if spec.service_managed_every > 0
            && i % spec.service_managed_every == spec.service_managed_every - 1
        {
            body["properties"]
                .as_object_mut()
                .unwrap()
                .remove("dataEncryption");
        } else if let Some(uri) = body["properties"]["dataEncryption"]["primaryKeyUri"]
            .as_str()
            .filter(|uri| {
                cmk_check::azure::keyuri::KeyUri::parse(uri).is_ok_and(|k| k.vault == vault)
            })
        {
            // Only a valid key URI naming its vault can be read; the others are what their fixtures are about.
            let vault_id = format!("/subscriptions/{}/resourcegroups/rg-citus-prod/providers/microsoft.keyvault/vaults/{vault}", subscriptions[v % subscriptions.len()]);
            let path = match uri.split_once("/keys/").unwrap().1.split_once('/') {
                Some((_, version)) => format!("{vault_id}/keys/{key}/versions/{version}"),
                None => format!("{vault_id}/keys/{key}"),
            };
            let key_body = world
                .bodies
                .get(&path)
                .unwrap_or_else(|| panic!("{uri}: {path}"))
                .clone();
            keys_in_use.insert(path, key_body);
        }
        let id = body["id"].as_str().unwrap().to_string();
        body["subscriptionId"] = json!(sub);
        world.add("clusters", body);
        world.add("identities", rewrite(&fixture["identity"], &names));
        let unavailable =
            spec.unavailable_every > 0 && i % spec.unavailable_every == spec.unavailable_every - 1;
        world.add(
            "health",
            json!({
                "id": format!("{id}/providers/Microsoft.ResourceHealth/availabilityStatuses/current"),
                "properties": if unavailable {
                    json!({"availabilityState": "Unavailable", "summary": "The cluster cannot reach its key", "reasonType": "Unplanned"})
                } else {
                    json!({"availabilityState": "Available", "summary": "There aren't any known problems"})
                },
            }),
        );
        clusters.push(id);
    }
    // The alerts of a subscription, as ARM lists them.
    let mut by_subscription: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for alert in world.rows.get("alerts").into_iter().flatten() {
        let sub = alert["id"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(2)
            .unwrap()
            .to_ascii_lowercase();
        by_subscription.entry(sub).or_default().push(alert.clone());
    }
    for sub in &subscriptions {
        let alerts = by_subscription
            .remove(&sub.to_ascii_lowercase())
            .unwrap_or_default();
        world.bodies.insert(
            format!("/subscriptions/{sub}/providers/microsoft.insights/activitylogalerts"),
            json!({ "value": alerts }),
        );
    }
    Generated {
        world,
        clusters,
        subscriptions,
        keys_in_use,
    }
}

/// Azure's quotas, kept by the fake.
struct Quotas {
    graph: VecDeque<Instant>,
    buckets: HashMap<String, (f64, Instant)>,
    bursts: usize,
}

struct Answering {
    world: World,
    spec: Spec,
    counts: Arc<Counts>,
    quotas: Mutex<Quotas>,
}

const GRAPH_QUOTA: usize = 15;
const GRAPH_WINDOW: Duration = Duration::from_secs(5);
const BUCKET: f64 = 250.0;
const REFILL_PER_SECOND: f64 = 25.0;

impl Answering {
    fn graph(&self, request: &Request) -> ResponseTemplate {
        let mut headers = Vec::new();
        if self.spec.throttle {
            let mut quotas = self.quotas.lock().unwrap();
            let now = Instant::now();
            while quotas
                .graph
                .front()
                .is_some_and(|t| now.duration_since(*t) >= GRAPH_WINDOW)
            {
                quotas.graph.pop_front();
            }
            let resets = quotas.graph.front().map_or(GRAPH_WINDOW, |t| {
                GRAPH_WINDOW.saturating_sub(now.duration_since(*t))
            });
            if quotas.graph.len() >= GRAPH_QUOTA {
                self.counts.throttled.fetch_add(1, Ordering::Relaxed);
                return ResponseTemplate::new(429)
                    .insert_header("Retry-After", resets.as_secs().max(1).to_string().as_str())
                    .insert_header("x-ms-user-quota-remaining", "0")
                    .set_body_json(json!({"error": {"code": "RateLimiting", "message": "Please try again later."}}));
            }
            quotas.graph.push_back(now);
            let remaining = GRAPH_QUOTA - quotas.graph.len();
            headers.push(("x-ms-user-quota-remaining", remaining.to_string()));
            headers.push((
                "x-ms-user-quota-resets-after",
                format!("00:00:{:02}", resets.as_secs().max(1)),
            ));
        }
        self.counts.graph.fetch_add(1, Ordering::Relaxed);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let query = body["query"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let table = if query.starts_with("resourcecontainers") {
            "subscriptions"
        } else if query.starts_with("healthresources") {
            "health"
        } else if query.contains("servergroupsv2") {
            "clusters"
        } else if query.contains("userassignedidentities") {
            "identities"
        } else if query.contains("microsoft.keyvault/vaults") {
            "vaults"
        } else if query.contains("activitylogalerts") {
            "alerts"
        } else {
            ""
        };
        let rows: Vec<Value> = if table == "subscriptions" {
            (0..self.spec.subscriptions)
                .map(|i| json!({"id": format!("/subscriptions/{}", subscription(i)), "subscriptionId": subscription(i)}))
                .collect()
        } else {
            self.world.rows.get(table).cloned().unwrap_or_default()
        };
        let rows: Vec<Value> = if table == "vaults" && self.spec.stale_vaults {
            rows.into_iter()
                .map(|mut row| {
                    row["properties"]["enablePurgeProtection"] = json!(false);
                    row
                })
                .collect()
        } else {
            rows
        };
        let truncated = self.spec.truncated && table == "clusters";
        if truncated {
            headers.push(("x-ms-tenant-subscription-limit-hit", "true".to_string()));
        }
        let scope: Option<Vec<String>> = body["subscriptions"].as_array().map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        });
        let names: Option<Vec<String>> = query.split_once("name in~ (").map(|(_, rest)| {
            rest.split(')')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|n| n.trim().trim_matches('\'').to_string())
                .collect()
        });
        let rows: Vec<&Value> = rows
            .iter()
            .filter(|row| {
                let id = row["id"].as_str().unwrap_or_default().to_ascii_lowercase();
                let sub = id.split('/').nth(2).unwrap_or_default().to_string();
                scope.as_ref().is_none_or(|s| s.contains(&sub))
                    && names.as_ref().is_none_or(|n| {
                        n.iter().any(|n| {
                            row["name"]
                                .as_str()
                                .is_some_and(|r| r.eq_ignore_ascii_case(n))
                        })
                    })
            })
            .collect();
        let top = body["options"]["$top"]
            .as_u64()
            .map_or(self.spec.page_rows, |t| t as usize)
            .min(self.spec.page_rows);
        let skip: usize = body["options"]["$skipToken"]
            .as_str()
            .and_then(|t| t.strip_prefix("skip:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let page: Vec<&Value> = rows.iter().skip(skip).take(top).copied().collect();
        let mut answer = json!({
            "totalRecords": rows.len(),
            "count": page.len(),
            "resultTruncated": if truncated { "true" } else { "false" },
            "data": page,
        });
        if skip + top < rows.len() {
            answer["$skipToken"] = json!(format!("skip:{}", skip + top));
        }
        let mut response = ResponseTemplate::new(200).set_body_json(answer);
        for (name, value) in headers {
            response = response.insert_header(name, value.as_str());
        }
        response
    }

    fn read(&self, request: &Request) -> ResponseTemplate {
        let path = request
            .url
            .path()
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if path.starts_with("/keys/") {
            // The Key Vault data plane: the auditor holds Reader, not an access policy.
            self.counts.other_reads.fetch_add(1, Ordering::Relaxed);
            return ResponseTemplate::new(403).set_body_json(json!({
                "error": {"code": "Forbidden", "message": "The user, group or application does not have keys get permission on key vault.", "innererror": {"code": "AccessDenied"}}
            }));
        }
        let sub = path.split('/').nth(2).unwrap_or_default().to_string();
        let index = self
            .spec
            .denied
            .map(subscription)
            .is_some_and(|s| s.eq_ignore_ascii_case(&sub));
        let mut remaining = None;
        {
            let mut quotas = self.quotas.lock().unwrap();
            if self
                .spec
                .bursty
                .map(subscription)
                .is_some_and(|s| s.eq_ignore_ascii_case(&sub))
            {
                quotas.bursts += 1;
                if quotas.bursts.is_multiple_of(5) {
                    self.counts.throttled.fetch_add(1, Ordering::Relaxed);
                    return ResponseTemplate::new(429).insert_header("Retry-After", "1");
                }
            }
            if self.spec.throttle {
                let now = Instant::now();
                let (tokens, at) = quotas.buckets.entry(sub.clone()).or_insert((BUCKET, now));
                *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * REFILL_PER_SECOND)
                    .min(BUCKET);
                *at = now;
                if *tokens < 1.0 {
                    self.counts.throttled.fetch_add(1, Ordering::Relaxed);
                    return ResponseTemplate::new(429)
                        .insert_header("Retry-After", "1")
                        .insert_header("x-ms-ratelimit-remaining-subscription-reads", "0");
                }
                *tokens -= 1.0;
                remaining = Some(tokens.floor());
            }
        }
        let counter = if path.contains("/keys/") && path.ends_with("/versions") {
            &self.counts.version_lists
        } else if path.contains("/keys/") {
            &self.counts.key_reads
        } else if path.ends_with("/activitylogalerts") {
            &self.counts.alert_lists
        } else {
            &self.counts.other_reads
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if index {
            return ResponseTemplate::new(403).set_body_json(json!({
                "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action."}
            }));
        }
        let mut response = match self.world.bodies.get(&path) {
            Some(body) => ResponseTemplate::new(200).set_body_json(body),
            None => ResponseTemplate::new(404).set_body_json(json!({
                "error": {"code": "ResourceNotFound", "message": "The resource was not found."}
            })),
        };
        if let Some(remaining) = remaining {
            response = response.insert_header(
                "x-ms-ratelimit-remaining-subscription-reads",
                format!("{remaining}").as_str(),
            );
        }
        response
    }
}

impl Respond for Answering {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let response = if request
            .url
            .path()
            .to_ascii_lowercase()
            .contains("microsoft.resourcegraph")
        {
            self.graph(request)
        } else {
            self.read(request)
        };
        response.set_delay(self.spec.latency)
    }
}

impl Tenant {
    pub async fn start(spec: Spec) -> Self {
        let Generated {
            world,
            clusters,
            subscriptions,
            keys_in_use,
        } = generate(&spec);
        let server = MockServer::builder()
            .disable_request_recording()
            .start()
            .await;
        let counts = Arc::new(Counts::default());
        let answering = Answering {
            world,
            spec,
            counts: Arc::clone(&counts),
            quotas: Mutex::new(Quotas {
                graph: VecDeque::new(),
                buckets: HashMap::new(),
                bursts: 0,
            }),
        };
        Mock::given(wiremock::matchers::any())
            .respond_with(answering)
            .mount(&server)
            .await;
        Self {
            server,
            counts,
            clusters,
            subscriptions,
            keys_in_use,
        }
    }
}
