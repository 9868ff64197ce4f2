from django.core.management.base import BaseCommand

from demo.users import demo_logins


class Command(BaseCommand):
    help = "Print the demo logins for each role."

    def handle(self, *args, **options):
        self.stdout.write("Demo logins (password for all: demo):")
        for role, username, _password in demo_logins():
            self.stdout.write(f"  {role:<32} {username}")
