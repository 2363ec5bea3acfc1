//! e2e

mod clients; // real client libraries (node-apn, apns2, aioapns, curl) and the CONNECT front door
