#!/bin/sh
# /init-systemd of the test VM (busybox; selected with rdinit=/init-systemd): the same modules, 9p root
# and tmpfs overlay as /init, but instead of chrooting it boots the host's Debian userland with a real
# systemd as PID 1 (switch_root execs it). The command from the results share runs as the service
# lbctl-vm-test.service inside the target lbctl-vm-test.target (systemd.unit= on the kernel command
# line), so nothing else installed on the host (nginx, keepalived, postgresql, timers...) starts.
# stdout/stderr go to the virtio serial ports, the exit status to the share, as with /init.
. /init-root.sh

r=/newroot
# systemd keeps an existing /run tmpfs; the results share must be there before PID 1 starts.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs $r/run
mkdir -p $r/run/lbctl-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results $r/run/lbctl-vm || poweroff -f

# The host is a container: its /.dockerenv would make systemd believe it runs in docker (it then
# ignores the kernel command line, systemd.unit= included, and skips its own mounts).
rm -f $r/.dockerenv $r/run/.containerenv
# A machine-id of its own: with none systemd runs first-boot setup.
cat /proc/sys/kernel/random/uuid | tr -d '-' > $r/etc/machine-id
# Debian's tmp.conf empties /tmp at boot: in the overlay that would hide the host's /tmp (a checkout
# under /tmp) behind whiteouts. An empty file of the same name in /etc overrides it.
mkdir -p $r/etc/tmpfiles.d
: > $r/etc/tmpfiles.d/tmp.conf

sd=$r/etc/systemd/system
# Only the test target starts; also drop the host's enablements so that nothing it wants sneaks in
# through sysinit/timers (timesyncd, apt timers). Removing in the overlay leaves the host untouched.
rm -rf $sd/*.wants
for u in systemd-timesyncd.service getty@.service serial-getty@.service console-getty.service \
         systemd-networkd.service NetworkManager.service networking.service \
         systemd-networkd-wait-online.service NetworkManager-wait-online.service ifupdown-wait-online.service \
         keepalived.service ipvsadm.service nginx.service dnsmasq.service postgresql.service bird.service frr.service \
         apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
         systemd-firstboot.service systemd-pstore.service; do
  ln -sf /dev/null "$sd/$u"
done
cat > $sd/lbctl-vm-test.target <<'EOF'
[Unit]
Description=lbctl VM test
Requires=basic.target lbctl-vm-test.service
After=basic.target
AllowIsolate=yes
EOF
cat > $sd/lbctl-vm-test.service <<'EOF'
[Unit]
Description=lbctl VM test driver (runs /run/lbctl-vm/cmd.sh, then powers off)
After=basic.target
[Service]
Type=simple
Environment=LBCTL_IN_VM=1 LBCTL_IN_SYSTEMD_VM=1 HOME=/root
ExecStart=/bin/sh /etc/lbctl-vm-driver.sh
EOF
cat > $r/etc/lbctl-vm-driver.sh <<'EOF'
port() {
  for d in /sys/class/virtio-ports/*; do
    [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return
  done
  echo /dev/null
}
/bin/sh /run/lbctl-vm/cmd.sh > "$(port stdout)" 2> "$(port stderr)" < /dev/null
echo $? > /run/lbctl-vm/exit-status
sync
# Everything is on the share already: power off at once, without stopping units.
systemctl poweroff --force --force
EOF

exec switch_root $r /lib/systemd/systemd
