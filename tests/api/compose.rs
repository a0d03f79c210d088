//! `docker-compose.yml` cannot be started here (no container engine), so it is checked
//! against what the binary accepts: its services, commands, ports, health checks and every
//! variable the Organizer services set. Also the Dockerfile's data folder.

use std::collections::BTreeSet;

use clap::CommandFactory;
use serde_norway::Value;

fn compose() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    let mut value: Value = serde_norway::from_str(&text).expect("docker-compose.yml is YAML");
    value.apply_merge().expect("merge keys resolve");
    value
}

/// Every environment variable `organizer serve` and `organizer worker` read.
fn accepted_variables() -> BTreeSet<String> {
    let cli = organizer::config::Cli::command();
    let mut names = BTreeSet::new();
    for sub in ["serve", "worker"] {
        let command = cli
            .find_subcommand(sub)
            .unwrap_or_else(|| panic!("no `{sub}` command"));
        for arg in command.get_arguments() {
            if let Some(env) = arg.get_env() {
                names.insert(env.to_string_lossy().to_string());
            }
        }
    }
    names
}

fn command(service: &Value) -> Vec<String> {
    service["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_compose_file_runs_an_api_and_two_workers_on_postgres_redis_and_s3() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    for name in ["postgres", "redis", "minio", "api", "worker-1", "worker-2"] {
        assert!(services.contains_key(name), "service {name}");
        assert!(
            compose["services"][name]["healthcheck"]["test"].is_sequence(),
            "{name} has a health check"
        );
    }
    assert_eq!(
        command(&compose["services"]["api"]),
        ["serve", "--workers", "0"]
    );
    for worker in ["worker-1", "worker-2"] {
        assert_eq!(command(&compose["services"][worker])[0], "worker");
    }
    // The API's published port is the one it binds.
    let ports = compose["services"]["api"]["ports"][0].as_str().unwrap();
    let bind = compose["services"]["api"]["environment"]["BIND"]
        .as_str()
        .unwrap();
    assert!(
        ports.ends_with(&format!(":{}", bind.rsplit(':').next().unwrap())),
        "{ports} vs {bind}"
    );

    // Nothing but the API is published on the host.
    for (service, definition) in services {
        if service.as_str() != Some("api") {
            assert!(
                definition.get("ports").is_none(),
                "{service:?} publishes a port"
            );
        }
    }
    let redis = serde_json::to_string(&compose["services"]["redis"]).unwrap();
    assert!(redis.contains("--requirepass"), "{redis}");

    let accepted = accepted_variables();
    // Read by libraries rather than by flags: OpenDAL's S3 credentials and the log filter.
    let ambient = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "RUST_LOG",
    ];
    for name in ["api", "worker-1", "worker-2"] {
        let environment = compose["services"][name]["environment"]
            .as_mapping()
            .unwrap();
        let set: BTreeSet<String> = environment
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        for variable in &set {
            assert!(
                accepted.contains(variable) || ambient.contains(&variable.as_str()),
                "{name} sets {variable}, which the binary does not read"
            );
        }
        for needed in [
            "DATABASE_URL",
            "REDIS_URL",
            "STORAGE_URL",
            "JWT_SECRET",
            "BIND",
        ] {
            assert!(set.contains(needed), "{name} needs {needed}");
        }
        let value = |key: &str| environment[key].as_str().unwrap().to_string();
        assert!(value("DATABASE_URL").starts_with("postgres://"));
        // Redis asks for a password and the store for the app's own key, both the
        // operator's to choose.
        let redis = value("REDIS_URL");
        assert!(
            redis.starts_with("redis://:${REDIS_PASSWORD:?") && redis.ends_with("}@redis:6379/0"),
            "{redis}"
        );
        assert!(
            value("AWS_SECRET_ACCESS_KEY").starts_with("${MINIO_APP_SECRET:?"),
            "the app does not use the store's root account"
        );
        assert_ne!(value("AWS_ACCESS_KEY_ID"), "minio-root");
        assert!(value("STORAGE_URL").starts_with("s3://"));
        // No secret is written into the file: it must come from the operator.
        assert!(
            value("JWT_SECRET").starts_with("${JWT_SECRET:?"),
            "{}",
            value("JWT_SECRET")
        );
        for volume in compose["services"][name]["volumes"].as_sequence().unwrap() {
            let volume = volume.as_str().unwrap();
            let (named, mount) = volume.split_once(':').unwrap();
            assert!(
                compose["volumes"].as_mapping().unwrap().contains_key(named),
                "{volume}"
            );
            assert_eq!(mount, value("DATA_DIR"), "the data folder is the volume");
        }
    }
}

#[test]
fn the_image_owns_its_data_folder_and_builds_the_s3_backend() {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    assert!(dockerfile.contains("mkdir -p /var/lib/organizer/data"));
    assert!(dockerfile.contains("chown organizer:organizer /var/lib/organizer/data"));
    assert!(dockerfile.contains("USER organizer"));
    assert!(dockerfile.contains("--features s3"));
    assert!(dockerfile.contains("DATA_DIR=/var/lib/organizer/data"));
}
