# The `user` test stage runs this with `shell /etc/tests/system.sh` and checks its output.
echo system test starting
ls /bin
cat /etc/lines.txt
echo written by the shell > /tmp/x
cat /tmp/x
hello --exit 5
ping 3
isolation
trap
oom
hello after-oom
ps
cpu-burn 1000000 1000 K &
kill $!
wait
time hello timed
echo system test done
