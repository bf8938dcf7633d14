"""Writes N generated candidates as JSON Lines to stdout, for bench/import.sh.

Seeded, so the same N gives the same file. Each line is a candidate as POST /api/v1/candidates
takes it: identity, tags, and a profile with a headline, location, 3-10 skills, 1-4 jobs and
a degree; about 1% of the emails repeat an earlier one, so the import also updates.
"""

import json
import random
import sys

FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eva", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Kofi",
         "Lena", "Mateo", "Nora", "Olu", "Priya", "Quentin", "Rosa", "Søren", "Tomasz", "Uma",
         "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"]
LAST = ["Alves", "Brontë", "Côté", "Dutta", "Eriksen", "Fernández", "García", "Hansen", "Ivanova",
        "Jansen", "Kowalski", "López", "Müller", "Nowak", "O'Brien", "Patel", "Quinn", "Rossi",
        "Schmidt", "Tanaka", "Ueda", "Virtanen", "Wójcik", "Xu", "Yilmaz", "Zieliński"]
CITIES = [("London", "GB"), ("Manchester", "GB"), ("Leeds", "GB"), ("Berlin", "DE"),
          ("Munich", "DE"), ("Paris", "FR"), ("Lyon", "FR"), ("Madrid", "ES"), ("Lisbon", "PT"),
          ("Warsaw", "PL"), ("Amsterdam", "NL"), ("Stockholm", "SE"), ("Dublin", "IE"),
          ("New York", "US"), ("Austin", "US"), ("Toronto", "CA"), ("Bangalore", "IN"),
          ("São Paulo", "BR"), ("Tokyo", "JP"), ("Sydney", "AU")]
COMMON = ["Java", "Python", "SQL", "JavaScript", "Microsoft Excel", "Git", "Docker", "AWS"]
SKILLS = COMMON + ["Rust", "Go", "Kubernetes", "PostgreSQL", "React", "TypeScript", "Terraform",
                   "C#", "C++", ".NET", "Kotlin", "Swift", "Scala", "Spark", "Kafka", "Redis",
                   "GraphQL", "Django", "Spring Boot", "Node.js", "Vue.js", "Angular", "Figma",
                   "Salesforce", "SAP", "Tableau", "Power BI", "Machine learning", "TensorFlow",
                   "PyTorch", "Linux", "Ansible", "Jenkins", "Azure", "Google Cloud", "MongoDB",
                   "Elasticsearch", "Nursing", "Accounting", "Logistics", "Project management",
                   "Scrum", "Sales", "Recruitment", "Customer service", "Copywriting"]
TITLES = ["Software Engineer", "Senior Software Engineer", "Data Engineer", "Data Scientist",
          "Platform Engineer", "Site Reliability Engineer", "Product Designer", "Frontend Developer",
          "Backend Developer", "Staff Nurse", "Accountant", "Logistics Coordinator", "Sales Manager",
          "Recruiter", "Project Manager", "QA Engineer", "DevOps Engineer", "Analyst"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark Industries",
             "Wayne Enterprises", "Tyrell", "Cyberdyne", "Soylent", "Wonka", "Aperture", "Massive Dynamic"]
UNIS = ["University of Leeds", "TU München", "Universidad de Alcalá", "Uniwersytet Warszawski",
        "KTH Royal Institute of Technology", "University of Toronto", "IIT Bombay"]


def candidate(rng, i):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, cc = rng.choice(CITIES)
    email_n = rng.randrange(i) if i > 100 and rng.random() < 0.01 else i
    skills = set(rng.sample(COMMON, rng.randint(0, 3)))
    skills.update(rng.sample(SKILLS, rng.randint(3, 7)))
    jobs, year = [], 2026
    for _ in range(rng.randint(1, 4)):
        start = year - rng.randint(1, 5)
        job = {"name": rng.choice(COMPANIES), "position": rng.choice(TITLES),
               "startDate": f"{start}-{rng.randint(1, 12):02d}",
               "highlights": [f"Worked with {rng.choice(SKILLS)} and {rng.choice(SKILLS)} in a team of {rng.randint(3, 30)}."]}
        if jobs:
            job["endDate"] = f"{year}-{rng.randint(1, 12):02d}"
        jobs.append(job)
        year = start
    return {
        "first_name": first,
        "last_name": last,
        "email": f"candidate{email_n}@example.com",
        "phone": f"+44 7700 9{i % 100000:05d}",
        "tags": rng.sample(["imported", "relocate", "contract", "permanent", "remote"], 2),
        "source": rng.choice(["job_board", "referral", "linkedin", "agency"]),
        "profile": {
            "basics": {"label": jobs[0]["position"], "location": {"city": city, "countryCode": cc},
                       "summary": f"{jobs[0]['position']} with {2026 - year} years in {rng.choice(SKILLS)}."},
            "work": jobs,
            "education": [{"institution": rng.choice(UNIS), "studyType": rng.choice(["BSc", "MSc", "BA", "PhD"]),
                           "area": rng.choice(["Computer Science", "Nursing", "Economics", "Physics"])}],
            "skills": [{"name": s} for s in sorted(skills)],
            "total_experience_years": float(2026 - year),
        },
    }


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20261122)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(candidate(rng, i), ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
