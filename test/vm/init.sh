#!/bin/sh
# /init of the IPVS test VM (busybox). Loads the modules, mounts the host's / read-only over 9p with a
# tmpfs overlay on top, chroots into it and runs /run/lbctl-vm/cmd.sh from the read-write results share.
# stdout/stderr go to virtio serial ports that QEMU appends to host files; the exit status goes to
# the results share. Then power off (the kernel panics -> QEMU exits if anything here dies).
. /init-root.sh

r=/newroot
# The results share first: it says which host paths under /tmp must stay visible ("keep", one per
# line, e.g. a checkout in /tmp/x), since the guest's fresh tmpfs on /tmp would hide them.
mkdir -p /mnt/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /mnt/results || poweroff -f
i=0
if [ -f /mnt/results/keep ]; then
  while read -r p; do
    [ -d "$r$p" ] || continue
    i=$((i + 1)); mkdir -p /mnt/keep$i
    mount --bind "$r$p" /mnt/keep$i && echo "$p" > /mnt/keep$i.path
  done < /mnt/results/keep
fi
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
mount -t tmpfs tmpfs $r/dev/shm
mount -t tmpfs tmpfs $r/run
mount -t tmpfs tmpfs $r/tmp
while [ $i -gt 0 ]; do
  if [ -f /mnt/keep$i.path ]; then
    p="$(cat /mnt/keep$i.path)"; mkdir -p "$r$p"; mount --move /mnt/keep$i "$r$p"
  fi
  i=$((i - 1))
done
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null
mkdir -p $r/run/lbctl-vm $r/run/netns
mount --move /mnt/results $r/run/lbctl-vm || poweroff -f
ip link set lo up

port() {
  for d in /sys/class/virtio-ports/*; do
    [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return
  done
  echo /dev/null
}
out="$(port stdout)"
err="$(port stderr)"

chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LBCTL_IN_VM=1 /bin/sh /run/lbctl-vm/cmd.sh > "$out" 2> "$err"
echo $? > $r/run/lbctl-vm/exit-status
sync
poweroff -f
