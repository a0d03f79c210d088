//! The migrations run forwards and backwards on the database under test.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn migrations_go_down_cleanly_and_up_again() {
    let app = spawn_app_with(|c| c.workers = 0).await;
    let ada = app.signup("ada").await;
    let db = &app.state.db;
    let count_users = || async {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM users",
        ))
        .await
    };
    assert!(count_users().await.is_ok());

    Migrator::down(db, None)
        .await
        .expect("every migration has a working down");
    assert!(count_users().await.is_err(), "the tables are gone");
    assert!(
        Migrator::get_applied_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );

    Migrator::up(db, None).await.expect("and up again");
    assert_eq!(
        Migrator::get_applied_migrations(db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    // A fresh, empty schema: the old account is gone, a new one can sign up.
    assert!(app.login("ada", &ada.password).await["errors"].is_array());
    app.signup("ada").await;
}
