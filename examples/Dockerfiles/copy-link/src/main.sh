[ "$1" = --version ] && { echo "linktool $VERSION"; exit 0; }
echo "linktool $VERSION on $(cat /etc/app-release): $(cat /usr/share/linktool/motd.txt)"
