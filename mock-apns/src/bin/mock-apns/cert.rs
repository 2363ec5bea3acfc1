//! `mock-apns cert issue`: a provider certificate signed by the mock's CA.

use anyhow::{Context as _, Result};
use mock_apns::Pki;
use mock_apns::{ClientCertRequest, Environment};

use crate::cli::CertIssue;
use crate::startup_error::absolute;

pub(crate) fn issue(args: CertIssue) -> Result<()> {
    let pki = Pki::load_or_generate(&args.state_dir).context("loading the mock's CA")?;
    let environment = args
        .environment
        .as_deref()
        .map(str::parse::<Environment>)
        .transpose()?;
    let request = ClientCertRequest {
        bundle_id: args.topic.clone(),
        voip: args.voip,
        environment,
    };
    let cert = pki.issue_client_cert(&request)?;
    let (cert_path, key_path) = cert.write_to(&args.out, &args.topic)?;
    let env = environment.map_or("development and production".into(), |e| e.to_string());
    let (cert_path, key_path) = (absolute(&cert_path), absolute(&key_path));
    println!("certificate  {cert_path}");
    println!("private key  {key_path}");
    println!("topics       {}", cert.topics.join(", "));
    println!("environment  {env}");
    println!(
        "\nUse it: curl --http2 --cacert {ca} --cert {cert} --key {key} -H 'apns-topic: {topic}' \\\n  -d '{{\"aps\":{{\"alert\":\"hi\"}}}}' https://localhost:2197/3/device/<token>",
        ca = absolute(&Pki::ca_path(&args.state_dir)),
        cert = cert_path,
        key = key_path,
        topic = args.topic,
    );
    Ok(())
}
