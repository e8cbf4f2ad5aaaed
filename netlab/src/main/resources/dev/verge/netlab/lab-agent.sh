#!/bin/sh
# The guest side of LabVm's command channel (a virtio-serial port named verge.lab, opened once:
# the port allows one opener). Each request is one line, "RUN <id> <base64 command>"; the command's
# output (stdout and stderr) streams back, followed by "\nVERGE-LAB-EXIT <id> <exit code>". The
# host closing the channel ends the agent (and so the VM).
port=""
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = verge.lab ] && port=/dev/$(basename "$p")
done
if [ -z "$port" ]; then
  echo "VERGE-LAB-FAIL no virtio-serial port named verge.lab"
  exit 1
fi
exec 3<>"$port"
echo "VERGE-LAB-READY" >&3
echo "VERGE-LAB-READY"
while IFS= read -r line <&3; do
  case "$line" in
    "RUN "*)
      set -- $line
      id=$2
      command=$(printf '%s' "$3" | base64 -d)
      (cd /tmp && exec sh -c "$command") </dev/null >&3 2>&3
      printf '\nVERGE-LAB-EXIT %s %s\n' "$id" "$?" >&3
      ;;
  esac
done
