-- Which device pushed each change (issue 15). A device's pull leaves out the changes it pushed
-- itself: it holds them already, and the push's answer gave it their versions. NULL: written
-- by the server (a post's stamp, a submission receipt, the Secretariat's records) or before
-- this column existed; such changes go to every device of the scope, as before.
-- (Numbered 007: 006 is the hardening step of issue 10, merged beside this one.)
ALTER TABLE change ADD COLUMN device_id TEXT;
