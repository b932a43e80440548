-- Arista EOS encrypts session passwords with Arista's own type 7, as Peering
-- Manager 1.10.4 does; 0.1.0 seeded the platform with Cisco type 7. Only the
-- seeded value is corrected: a platform an operator changed is left alone.
UPDATE "devices_platform" SET "password_algorithm" = 'arista-type7'
 WHERE "slug" = 'arista-eos' AND "napalm_driver" = 'eos' AND "password_algorithm" = 'cisco-type7';
