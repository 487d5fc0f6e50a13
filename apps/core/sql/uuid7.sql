-- UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds over a random UUID, its
-- version nibble set to 7 (gen_random_uuid() sets 4: bits 52 and 53 turn 0100 into 0111).
-- The same ids as apps/core/ids.py makes in Python; PostgreSQL 18 has uuidv7() built in.
CREATE OR REPLACE FUNCTION core_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
