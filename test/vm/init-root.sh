# Sourced by /init and /init-systemd (busybox sh): loads the modules and mounts the host's / read-only
# over 9p with a tmpfs overlay on top, at /newroot.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
  insmod "/lib/modules/$m" 2>/dev/null || echo "init: insmod $m failed" >&2
done < /lib/modules/load-order

# One big 9p message size: reading the Bun binary and the bundle is most of the I/O.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt/host || poweroff -f
mount -t tmpfs -o size=512m tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot || poweroff -f
