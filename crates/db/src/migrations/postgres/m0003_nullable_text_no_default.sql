-- Nullable text fields have no default, as in Django: an omitted value is NULL
-- (Peering Manager answers null and templates print None), not ''.
ALTER TABLE "devices_router" ALTER COLUMN "napalm_password" DROP DEFAULT;
ALTER TABLE "devices_router" ALTER COLUMN "napalm_username" DROP DEFAULT;
ALTER TABLE "peering_autonomoussystem" ALTER COLUMN "irr_as_set" DROP DEFAULT;
ALTER TABLE "peering_directpeeringsession" ALTER COLUMN "encrypted_password" DROP DEFAULT;
ALTER TABLE "peering_directpeeringsession" ALTER COLUMN "password" DROP DEFAULT;
ALTER TABLE "peering_directpeeringsession" ALTER COLUMN "service_reference" DROP DEFAULT;
ALTER TABLE "peering_internetexchangepeeringsession" ALTER COLUMN "encrypted_password" DROP DEFAULT;
ALTER TABLE "peering_internetexchangepeeringsession" ALTER COLUMN "password" DROP DEFAULT;
ALTER TABLE "peering_internetexchangepeeringsession" ALTER COLUMN "service_reference" DROP DEFAULT;
ALTER TABLE "peeringdb_campus" ALTER COLUMN "aka" DROP DEFAULT;
ALTER TABLE "peeringdb_campus" ALTER COLUMN "name_long" DROP DEFAULT;
ALTER TABLE "peeringdb_campus" ALTER COLUMN "website" DROP DEFAULT;
ALTER TABLE "peeringdb_carrier" ALTER COLUMN "website" DROP DEFAULT;
ALTER TABLE "peeringdb_facility" ALTER COLUMN "latitude" DROP DEFAULT;
ALTER TABLE "peeringdb_facility" ALTER COLUMN "longitude" DROP DEFAULT;
ALTER TABLE "peeringdb_facility" ALTER COLUMN "property" DROP DEFAULT;
ALTER TABLE "peeringdb_facility" ALTER COLUMN "region_continent" DROP DEFAULT;
ALTER TABLE "peeringdb_internetexchange" ALTER COLUMN "region_continent" DROP DEFAULT;
ALTER TABLE "peeringdb_ixlan" ALTER COLUMN "arp_sponge" DROP DEFAULT;
ALTER TABLE "peeringdb_ixlan" ALTER COLUMN "ixf_ixp_member_list_url" DROP DEFAULT;
ALTER TABLE "peeringdb_network" ALTER COLUMN "rir_status" DROP DEFAULT;
ALTER TABLE "peeringdb_organization" ALTER COLUMN "latitude" DROP DEFAULT;
ALTER TABLE "peeringdb_organization" ALTER COLUMN "longitude" DROP DEFAULT;
