//! `schema.graphql` is generated from the code and must not drift.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let on_disk = std::fs::read_to_string(path).expect("schema.graphql exists at the top level");
    let generated = organizer::graphql::sdl();
    assert!(
        on_disk == generated,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}
