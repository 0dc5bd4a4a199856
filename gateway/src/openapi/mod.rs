//! The gateway's OpenAPI 3.1 document, served at `GET /openapi.json`.
//!
//! It is built from the operation table (`crate::operation`: [`ROUTES`] and
//! [`Operation::describe`]) and the request/response DTOs' derived schemas, never written by
//! hand, so it cannot drift from what the handlers parse and answer: the table that picks a
//! row's DTOs for the dispatcher is the one that describes them here. [`schema`] holds what
//! one row's description is made of.
//!
//! Two facts of the wire format are applied to the derived schemas here rather than repeated
//! on every DTO: every authenticated request body may carry `token`/`uid-token` (how the SDKs
//! authenticate), and responses carry exactly the documented fields (`additionalProperties:
//! false`), so a response with a field the document does not name fails schema conformance.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::OnceLock,
};

use actix_web::{http::header::ContentType, HttpResponse};
use mayfly_api_types::{request, response, ErrorBody};
use serde_json::{json, Value};
use utoipa::openapi::{
    content::Content,
    header::Header,
    path::{HttpMethod, OperationBuilder},
    request_body::RequestBodyBuilder,
    response::ResponseBuilder,
    schema::{AdditionalProperties, AllOfBuilder, ObjectBuilder, Schema, Type},
    security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
    tag::Tag,
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
};

pub mod schema;

use crate::{
    error::ApiError,
    operation::{Operation, ROUTES},
};
use schema::{json, Access, Body, GATEWAY};

/// The security scheme of every authenticated operation.
const BEARER: &str = "bearer";
const JSON: &str = "application/json";
const REQUEST_ID: &str = "x-request-id";

/// The target and producer the request examples name. `tests/schemathesis/run.py` creates
/// them from the create examples first, so the other examples exercise real successes.
pub const EXAMPLE_TARGET: &str = "/team-a/aws-admin";
pub const EXAMPLE_PRODUCER: &str = "/team-a/s3-reader";
/// What the delete examples name (the test creates them too, so one delete succeeds).
pub const EXAMPLE_RETIRED_TARGET: &str = "/team-a/old-admin";
pub const EXAMPLE_RETIRED_PRODUCER: &str = "/team-a/old-reader";

/// A request body example, where one helps a reader (and gives schemathesis a valid request
/// to start from). Optional: an operation without one is still fully described.
pub fn request_example(op: Operation) -> Option<Value> {
    let target = || {
        json!({
            "name": EXAMPLE_TARGET,
            "access-key-id": "AKIAIOSFODNN7EXAMPLE",
            "access-key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "region": "us-east-1",
            "description": "team A's IAM admin",
        })
    };
    let producer = || {
        json!({
            "name": EXAMPLE_PRODUCER,
            "target-name": EXAMPLE_TARGET,
            "access-mode": "iam_user",
            "aws-user-policies": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            "aws-user-programmatic-access": true,
            "user-ttl": "60m",
            "tags": ["team-a"],
        })
    };
    let named = |name: &str| json!({ "name": name });
    Some(match op {
        Operation::Auth => json!({
            "access-id": "p-abcdef123456",
            "access-key": "the access key create-auth-method returned",
            "access-type": "access_key",
        }),
        Operation::TargetCreate => target(),
        Operation::TargetUpdate | Operation::TargetUpdateDetails | Operation::TargetUpdateV2 => {
            json!({
                "name": EXAMPLE_TARGET,
                "description": "team A's IAM admin (rotated)",
            })
        }
        Operation::TargetGet | Operation::TargetGetDetails => named(EXAMPLE_TARGET),
        Operation::TargetList => json!({ "filter": "team-a", "type": ["aws"] }),
        Operation::TargetDelete => named(EXAMPLE_RETIRED_TARGET),
        Operation::ProducerCreate
        | Operation::DynamicSecretCreate
        | Operation::ProducerUpdate
        | Operation::DynamicSecretUpdate => producer(),
        Operation::ProducerGet | Operation::TmpCredsList => named(EXAMPLE_PRODUCER),
        Operation::ProducerDelete | Operation::DynamicSecretDelete => {
            named(EXAMPLE_RETIRED_PRODUCER)
        }
        Operation::ListItems => json!({ "path": "/team-a", "type": ["dynamic-secret"] }),
        Operation::GetValue => json!({ "name": EXAMPLE_PRODUCER, "args": ["ttl=15m"] }),
        Operation::TmpCredsRevoke => json!({ "name": EXAMPLE_PRODUCER, "revoke-all": true }),
        Operation::TmpCredsUpdate => json!({
            "name": EXAMPLE_PRODUCER,
            "tmp-creds-id": "the id gateway-get-producer-tmp-creds lists",
            "new-ttl-min": 30,
        }),
        _ => return None,
    })
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Bad input: the message names each field and its problem.",
        401 => "No token, a bad or expired one, or (for /auth) wrong credentials.",
        403 => "The caller's roles do not allow this.",
        404 => "No such item or target.",
        405 => "Not POST.",
        409 => "Exists already, delete protection, in use, or changed concurrently.",
        413 => "The body is larger than the gateway's limit.",
        429 => "Too many attempts; retry later.",
        502 => "AWS answered with an error.",
        503 => "AWS or the gateway's database could not be reached.",
        504 => "The request's deadline passed.",
        _ => "Error.",
    }
}

/// Collects components by name; a name used for two different schemas is recorded, not
/// silently overwritten (the unit tests fail on it).
#[derive(Default)]
struct Components {
    schemas: BTreeMap<String, RefOr<Schema>>,
    clashes: Vec<String>,
}

impl Components {
    fn add(&mut self, body: &Body) {
        for (name, schema) in &body.components {
            match self.schemas.get(name) {
                Some(existing) if existing != schema => self.clashes.push(name.clone()),
                Some(_) => {}
                None => {
                    self.schemas.insert(name.clone(), schema.clone());
                }
            }
        }
    }
}

/// The document, and any component names that clashed while building it.
pub struct Built {
    pub document: OpenApi,
    pub clashes: Vec<String>,
}

const DESCRIPTION: &str = "Mayfly hands out short-lived AWS credentials and speaks the \
Akeyless Gateway REST API v2.\n\nEvery operation is `POST` with a JSON object body (an empty \
body counts as `{}`; unknown fields are ignored). Each path is also served under `/api/v2/` \
(`/api/v2/auth`), and paths match case-insensitively. Other methods on an operation's path \
get 405.\n\nEvery operation except `/auth` needs a token from `/auth`: in the body field \
`token` (how the Akeyless SDKs send it), in `uid-token`, or as `Authorization: Bearer \
t-...`. Errors are `{\"error\": \"...\"}`. Every response carries `x-request-id`.";

/// Builds the document from [`ROUTES`] and [`Operation::describe`].
pub fn build() -> Built {
    let mut components = Components::default();
    let error = json::<ErrorBody>();
    let health = json::<response::Health>();
    components.add(&error);
    components.add(&health);
    let token_fields = json::<request::TokenFields>();
    components.add(&token_fields);

    let mut request_schemas = BTreeSet::new();
    // Every component a request body uses: these stay open (unknown fields are ignored).
    let mut request_components: BTreeSet<String> = token_fields
        .components
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let mut response_schemas: BTreeSet<String> = error
        .components
        .iter()
        .chain(&health.components)
        .map(|(n, _)| n.clone())
        .collect();
    let mut paths = Paths::new();
    // In order of first use, so the document groups operations as ROUTES does.
    let mut tags: Vec<&str> = Vec::new();
    for (route, op) in ROUTES {
        let doc = op.describe();
        if !tags.contains(&doc.tag) {
            tags.push(doc.tag);
        }
        components.add(&doc.request);
        components.add(&doc.response);
        if doc.access == Access::Token {
            if let RefOr::Ref(r) = &doc.request.schema {
                request_schemas.insert(component_name(r).to_owned());
            }
        }
        request_components.extend(doc.request.components.iter().map(|(n, _)| n.clone()));
        response_schemas.extend(doc.response.components.iter().map(|(n, _)| n.clone()));
        let request = match (&doc.request.schema, doc.access) {
            // Named token-taking bodies get `token`/`uid-token` in their component below.
            (RefOr::Ref(_), _) | (_, Access::Public) => doc.request.schema.clone(),
            (inline, Access::Token) => AllOfBuilder::new()
                .item(token_fields.schema.clone())
                .item(inline.clone())
                .into(),
        };
        let mut operation = OperationBuilder::new()
            .tag(doc.tag)
            .summary(Some(doc.summary))
            .operation_id(Some(*route))
            .description(Some(format!(
                "Also served as `POST /api/v2/{route}`; the path matches case-insensitively."
            )))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::False))
                    .content(
                        JSON,
                        Content::builder()
                            .schema(Some(request))
                            .example(request_example(*op))
                            .build(),
                    )
                    .build(),
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Success.")
                    .content(JSON, Content::new(Some(doc.response.schema.clone())))
                    .header(REQUEST_ID, request_id_header()),
            );
        for status in doc.error_statuses() {
            operation = operation.response(status.to_string(), error_response(status, &error));
        }
        if doc.access == Access::Token {
            operation = operation.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
        }
        paths.add_path_operation(format!("/{route}"), vec![HttpMethod::Post], operation);
    }
    add_health(&mut paths, &health);
    add_document_path(&mut paths, &error);
    tags.push(GATEWAY);

    for name in &request_schemas {
        flatten_all_of(name, &mut components);
        if let Some(schema) = components.schemas.get_mut(name) {
            add_token_fields(schema, &token_fields);
        }
    }
    for name in response_schemas.difference(&request_components) {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }

    let document = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Mayfly gateway API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION)),
        )
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .schemas_from_iter(components.schemas)
                .security_scheme(
                    BEARER,
                    SecurityScheme::Http(
                        Http::builder()
                            .scheme(HttpAuthScheme::Bearer)
                            .description(Some(
                                "A token from /auth. The body field `token` (or `uid-token`) \
                                 works as well and is what the Akeyless SDKs send.",
                            ))
                            .build(),
                    ),
                )
                .build(),
        ))
        .tags(Some(tags.into_iter().map(Tag::new)))
        .build();
    Built {
        document,
        clashes: components.clashes,
    }
}

fn component_name(r: &Ref) -> &str {
    r.ref_location
        .rsplit_once('/')
        .map_or(r.ref_location.as_str(), |(_, n)| n)
}

/// Merges a request component made of `allOf` parts (a DTO with `#[serde(flatten)]`, such as
/// an update taking every field of the create plus `new-name`) into one object, so clients
/// and the reference see one flat list of fields, as the gateway reads them.
fn flatten_all_of(name: &str, components: &mut Components) {
    let Some(RefOr::T(Schema::AllOf(all))) = components.schemas.get(name).cloned() else {
        return;
    };
    let mut merged = utoipa::openapi::schema::Object::with_type(Type::Object);
    for item in &all.items {
        let part = match item {
            RefOr::Ref(r) => match components.schemas.get(component_name(r)) {
                Some(RefOr::T(Schema::Object(o))) => o.clone(),
                _ => return,
            },
            RefOr::T(Schema::Object(o)) => o.clone(),
            _ => return,
        };
        for (field, schema) in part.properties {
            merged.properties.entry(field).or_insert(schema);
        }
        merged.required.extend(part.required);
    }
    merged.description = all.description.clone();
    components
        .schemas
        .insert(name.to_owned(), RefOr::T(Schema::Object(merged)));
}

/// Adds `token` and `uid-token` to a request component that lacks them.
fn add_token_fields(schema: &mut RefOr<Schema>, token_fields: &Body) {
    let Some((_, RefOr::T(Schema::Object(tokens)))) = token_fields.components.first() else {
        return;
    };
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for (name, prop) in &tokens.properties {
                object
                    .properties
                    .entry(name.clone())
                    .or_insert_with(|| prop.clone());
            }
        }
        other => {
            *other = AllOfBuilder::new()
                .item(token_fields.schema.clone())
                .item(other.clone())
                .into();
        }
    }
}

fn request_id_header() -> Header {
    Header::builder()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(
            "This request's id; every log line of the request carries it.",
        ))
        .build()
}

fn error_response(status: u16, error: &Body) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(error_description(status))
        .content(JSON, Content::new(Some(error.schema.clone())))
        .header(REQUEST_ID, request_id_header())
        .build()
        .into()
}

fn add_health(paths: &mut Paths, health: &Body) {
    let ok = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(JSON, Content::new(Some(health.schema.clone())))
            .header(REQUEST_ID, request_id_header())
    };
    paths.add_path_operation(
        "/health",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag(GATEWAY)
            .operation_id(Some("health"))
            .summary(Some(
                "Liveness: the process serves requests; no token needed",
            ))
            .description(Some("Also served as `/api/v2/health`."))
            .response("200", ok("`{\"status\": \"ok\"}`")),
    );
    paths.add_path_operation(
        "/health/ready",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag(GATEWAY)
            .operation_id(Some("health-ready"))
            .summary(Some("Readiness: the database answers; no token needed"))
            .description(Some("Also served as `/api/v2/health/ready`."))
            .response("200", ok("`{\"status\": \"ready\"}`"))
            .response("503", ok("The database does not answer.")),
    );
}

fn add_document_path(paths: &mut Paths, error: &Body) {
    paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        OperationBuilder::new()
            .tag(GATEWAY)
            .operation_id(Some("openapi"))
            .summary(Some("This OpenAPI document; no token needed"))
            .description(Some("Also served as `/api/v2/openapi.json`."))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document.")
                    .content(
                        JSON,
                        Content::new(Some(ObjectBuilder::new().schema_type(Type::Object))),
                    )
                    .header(REQUEST_ID, request_id_header()),
            )
            .response("500", error_response(500, error)),
    );
}

/// The serialized document, built once: it depends only on the code.
fn document_bytes() -> &'static Result<Vec<u8>, String> {
    static DOCUMENT: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_vec(&build().document).map_err(|e| e.to_string()))
}

/// The document exactly as `GET /openapi.json` serves it (compact JSON), without a server:
/// `mayfly-gateway openapi` prints it. Needs no database, keys or network.
pub fn document_json() -> Result<&'static [u8], &'static str> {
    document_bytes()
        .as_ref()
        .map(Vec::as_slice)
        .map_err(String::as_str)
}

/// `GET /openapi.json`: needs no token; the document holds nothing secret.
pub async fn serve() -> Result<HttpResponse, ApiError> {
    match document_bytes() {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(bytes.clone())),
        Err(e) => Err(ApiError::internal(format!(
            "cannot serialize the OpenAPI document: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        let built = build();
        assert!(
            built.clashes.is_empty(),
            "component name clashes: {:?}",
            built.clashes
        );
        serde_json::to_value(&built.document).unwrap()
    }

    /// Follows a `$ref` to its component.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix("#/components/schemas/").unwrap();
                &doc["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    #[test]
    fn the_document_is_openapi_3_json_and_names_every_path() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let bytes = document_bytes().as_ref().unwrap();
        let reparsed: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(reparsed["openapi"], doc["openapi"]);
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(
            paths.len(),
            ROUTES.len() + 3,
            "routes + health x2 + openapi.json"
        );
        for p in ["/health", "/health/ready", "/openapi.json"] {
            assert!(paths[p]["get"]["responses"]["200"].is_object(), "{p}");
        }
        let declared: Vec<&Value> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["name"])
            .collect();
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let tag = &operation["tags"][0];
                assert!(
                    declared.contains(&tag),
                    "{method} {path}: tag {tag} is not declared"
                );
            }
        }
    }

    #[test]
    fn every_route_has_its_request_and_response_schema() {
        let doc = document();
        for (route, op) in ROUTES {
            let post = &doc["paths"][format!("/{route}")]["post"];
            assert!(post.is_object(), "/{route} is missing");
            let described = op.describe();
            let request = &post["requestBody"]["content"][JSON]["schema"];
            assert_eq!(
                request,
                &serde_json::to_value(described.request.schema()).unwrap(),
                "/{route} request"
            );
            let response = &post["responses"]["200"]["content"][JSON]["schema"];
            assert_eq!(
                response,
                &serde_json::to_value(described.response.schema()).unwrap(),
                "/{route} response"
            );
            for schema in [request, response] {
                if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                    assert!(resolve(&doc, schema).is_object(), "/{route}: dangling {r}");
                }
            }
            for status in described.error_statuses() {
                let error = &post["responses"][status.to_string()]["content"][JSON]["schema"];
                assert_eq!(
                    error["$ref"], "#/components/schemas/ErrorBody",
                    "/{route} {status}"
                );
            }
        }
    }

    #[test]
    fn the_right_dtos_back_the_right_routes() {
        let doc = document();
        let request_ref = |route: &str| {
            doc["paths"][route]["post"]["requestBody"]["content"][JSON]["schema"]["$ref"].clone()
        };
        let response = |route: &str| {
            doc["paths"][route]["post"]["responses"]["200"]["content"][JSON]["schema"].clone()
        };
        assert_eq!(request_ref("/auth"), "#/components/schemas/request.Auth");
        assert_eq!(response("/auth")["$ref"], "#/components/schemas/AuthOutput");
        assert_eq!(
            response("/update-aws-target")["$ref"],
            "#/components/schemas/Empty"
        );
        assert_eq!(
            response("/update-aws-target-details")["$ref"],
            "#/components/schemas/Updated"
        );
        assert_eq!(
            response("/target-update-aws")["$ref"],
            "#/components/schemas/TargetId"
        );
        assert_eq!(
            response("/dynamic-secret-create-aws")["$ref"],
            "#/components/schemas/DynamicSecretDetailsWrapped"
        );
        let tmp = response("/gateway-get-producer-tmp-creds");
        assert_eq!(tmp["type"], "array");
        assert_eq!(tmp["items"]["$ref"], "#/components/schemas/TmpUserData");
        let value = response("/get-dynamic-secret-value");
        assert_eq!(value["type"], "object");
        assert_eq!(value["additionalProperties"]["type"], "string");
    }

    #[test]
    fn authenticated_requests_may_carry_the_token_and_auth_does_not() {
        let doc = document();
        for (route, op) in ROUTES {
            let post = &doc["paths"][format!("/{route}")]["post"];
            let body = resolve(&doc, &post["requestBody"]["content"][JSON]["schema"]);
            let props = &body["properties"];
            if *op == Operation::Auth {
                assert!(props.get("token").is_none(), "/auth takes no token");
                assert!(post.get("security").is_none());
                assert!(post["responses"].get("403").is_none());
            } else {
                assert!(props["token"].is_object(), "/{route} lacks token");
                assert!(props["uid-token"].is_object(), "/{route} lacks uid-token");
                assert_eq!(
                    post["security"][0][BEARER],
                    serde_json::json!([]),
                    "/{route}"
                );
                assert!(post["responses"]["401"].is_object(), "/{route}");
            }
            let required = body.get("required").and_then(Value::as_array);
            assert!(
                required.is_none_or(|r| r.is_empty()),
                "/{route}: request fields are all optional on the wire"
            );
        }
    }

    #[test]
    fn request_examples_only_use_fields_their_schema_names() {
        let doc = document();
        for (route, op) in ROUTES {
            let content =
                &doc["paths"][format!("/{route}")]["post"]["requestBody"]["content"][JSON];
            let Some(example) = content.get("example") else {
                continue;
            };
            assert_eq!(example, &request_example(*op).unwrap(), "/{route}");
            let props = resolve(&doc, &content["schema"])["properties"]
                .as_object()
                .unwrap();
            for key in example.as_object().unwrap().keys() {
                assert!(
                    props.contains_key(key),
                    "/{route}: example field {key} is undocumented"
                );
            }
        }
    }

    #[test]
    fn lenient_fields_accept_both_spellings_and_responses_are_closed() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let one_of_types = |schema: &Value| -> Vec<String> {
            schema["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["type"].as_str().unwrap().to_owned())
                .collect()
        };
        let delete_protection = &schemas["request.AwsTarget"]["properties"]["delete_protection"];
        assert_eq!(
            one_of_types(delete_protection),
            ["boolean", "string", "null"]
        );
        let tags = &schemas["request.AwsProducer"]["properties"]["tags"];
        assert_eq!(one_of_types(tags), ["array", "string", "null"]);
        let timeout = &schemas["request.GetDynamicSecretValue"]["properties"]["timeout"];
        assert_eq!(one_of_types(timeout), ["integer", "string", "null"]);
        let access_key = &schemas["request.Auth"]["properties"]["access-key"];
        assert_eq!(access_key["oneOf"][0]["format"], "password");

        for name in [
            "Target",
            "ProducerDetails",
            "TmpUserData",
            "ErrorBody",
            "Empty",
        ] {
            assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
        }
        let target_required = schemas["Target"]["required"].as_array().unwrap();
        assert!(target_required.contains(&"target_name".into()));
        assert!(!target_required.contains(&"iam-endpoint".into()));
    }
}
