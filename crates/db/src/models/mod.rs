//! Every model's declaration, grouped by Peering Manager app.

pub mod bgp;
pub mod core;
pub mod devices;
pub mod extras;
pub mod irr;
pub mod messaging;
pub mod net;
pub mod peering;
pub mod peeringdb;
pub mod users;
